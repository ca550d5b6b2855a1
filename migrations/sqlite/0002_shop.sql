-- The shop: catalogue, shoppers, the interaction log, carts and orders (SQLite).
-- Times: `*_at` columns are Unix seconds, except `occurred_at` (Unix milliseconds).
-- Money: minor units (cents) of the row's ISO 4217 currency.

-- The category tree. `path` is the full path ("Electronics > Cameras"), unique.
create table category (
    category_id integer primary key,
    parent_id   integer references category (category_id),
    name        text not null,
    path        text not null unique,
    slug        text not null unique
);

create table product (
    product_id          integer primary key,
    sku                 text not null unique,
    title               text not null,
    description         text,
    category_id         integer references category (category_id),
    brand               text,
    price_minor         bigint check (price_minor >= 0),
    currency            text not null,
    image_url           text,
    attributes          text not null default '{}', -- JSON object of strings
    in_stock            boolean not null default true,
    source              text not null,              -- 'demo', 'movielens', 'amazon', ...
    source_rating       real check (source_rating between 0 and 5),
    source_rating_count bigint,
    created_at          bigint not null,
    updated_at          bigint not null
);

create index product_category on product (category_id);

-- Star ratings given in this shop: the histogram of each shopper's current rating.
create table product_rating (
    product_id integer primary key references product (product_id) on delete cascade,
    stars_1    bigint not null default 0,
    stars_2    bigint not null default 0,
    stars_3    bigint not null default 0,
    stars_4    bigint not null default 0,
    stars_5    bigint not null default 0
);

-- Whoever interactions belong to: a registered account, an anonymous visitor (created at
-- their first event; the session holds the id), or an imported / simulated shopper.
create table shopper (
    shopper_id   integer primary key,
    account_id   integer unique references account (account_id) on delete cascade,
    external_key text unique, -- 'demo-0001', 'ml-196', an Amazon reviewerID...
    created_at   bigint not null
);

-- The append-only event log the recommenders learn from.
create table interaction (
    interaction_id integer primary key,
    shopper_id     integer not null references shopper (shopper_id) on delete cascade,
    product_id     integer references product (product_id) on delete cascade,
    kind           text not null check (kind in ('view', 'click', 'like', 'dislike', 'rating',
                       'add_to_cart', 'remove_from_cart', 'purchase', 'search')),
    value          real,   -- stars for a rating, quantity for cart and purchase events
    query          text,   -- the search text of a search event
    occurred_at    bigint not null,
    surface        text,   -- the page or row it came from: 'search', 'product', 'home:for_you'...
    model          text,   -- for clicks on recommendations: the model that produced the item
    request_id     text,   -- ... and the recommendation request
    imported       boolean not null default false
);

create index interaction_shopper_time on interaction (shopper_id, occurred_at);
create index interaction_product on interaction (product_id);
create index interaction_time on interaction (occurred_at);
-- Re-importing the same file adds nothing.
create unique index interaction_imported_once
    on interaction (shopper_id, product_id, kind, occurred_at) where imported;

-- A shopper's current opinion of a product (the latest like/dislike and rating).
create table opinion (
    shopper_id integer not null references shopper (shopper_id) on delete cascade,
    product_id integer not null references product (product_id) on delete cascade,
    liked      boolean,            -- true: like, false: dislike, null: neither
    stars      integer check (stars between 1 and 5),
    updated_at bigint not null,
    primary key (shopper_id, product_id)
);

create table cart_line (
    shopper_id integer not null references shopper (shopper_id) on delete cascade,
    product_id integer not null references product (product_id) on delete cascade,
    quantity   integer not null check (quantity between 1 and 99),
    added_at   bigint not null,
    primary key (shopper_id, product_id)
);

create table shop_order (
    shop_order_id integer primary key,
    shopper_id    integer not null references shopper (shopper_id) on delete cascade,
    placed_at     bigint not null,
    total_minor   bigint not null,
    currency      text not null
);

create index shop_order_shopper on shop_order (shopper_id, placed_at);

create table order_line (
    shop_order_id    integer not null references shop_order (shop_order_id) on delete cascade,
    product_id       integer not null references product (product_id),
    title            text not null, -- as sold
    quantity         integer not null check (quantity >= 1),
    unit_price_minor bigint not null,
    primary key (shop_order_id, product_id)
);

-- Facts about the shop itself, e.g. `demo_seed` once the generated data is in.
create table shop_meta (
    key   text primary key,
    value text not null
);
