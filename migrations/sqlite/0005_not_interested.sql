-- "Not interested": a shopper hides one product from their recommendations without
-- saying they dislike it (a dislike also pushes down its near-duplicates).
--
-- SQLite cannot alter a CHECK constraint, so the event log is rebuilt with the new kind:
-- same columns, same ids, same indexes. It runs once, in the migration's transaction.

create table interaction_new (
    interaction_id integer primary key,
    shopper_id     integer not null references shopper (shopper_id) on delete cascade,
    product_id     integer references product (product_id) on delete cascade,
    kind           text not null check (kind in ('view', 'click', 'like', 'dislike',
                       'not_interested', 'rating', 'add_to_cart', 'remove_from_cart',
                       'purchase', 'search')),
    value          real,   -- stars for a rating, quantity for cart and purchase events
    query          text,   -- the search text of a search event
    occurred_at    bigint not null,
    surface        text,   -- the page or row it came from: 'search', 'product', 'home:for_you'...
    model          text,   -- for clicks on recommendations: the model that produced the item
    request_id     text,   -- ... and the recommendation request
    imported       boolean not null default false
);

insert into interaction_new (interaction_id, shopper_id, product_id, kind, value, query,
                             occurred_at, surface, model, request_id, imported)
select interaction_id, shopper_id, product_id, kind, value, query,
       occurred_at, surface, model, request_id, imported
from interaction;

drop table interaction;
alter table interaction_new rename to interaction;

create index interaction_shopper_time on interaction (shopper_id, occurred_at);
create index interaction_product on interaction (product_id);
create index interaction_time on interaction (occurred_at);
-- Re-importing the same file adds nothing.
create unique index interaction_imported_once
    on interaction (shopper_id, product_id, kind, occurred_at) where imported;
