-- "Not interested": a shopper hides one product from their recommendations without
-- saying they dislike it (a dislike also pushes down its near-duplicates).

alter table interaction drop constraint interaction_kind_check;
alter table interaction add constraint interaction_kind_check
    check (kind in ('view', 'click', 'like', 'dislike', 'not_interested', 'rating',
                    'add_to_cart', 'remove_from_cart', 'purchase', 'search'));
