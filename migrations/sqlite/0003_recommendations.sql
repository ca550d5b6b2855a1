-- The live recommendation service: published model versions, the bandit's counts, and
-- the categories a new shopper picked at onboarding (SQLite).

-- One trained model set. `payload` holds every model's bytes (MessagePack); a serving
-- node loads the newest `live` version at start and polls for newer ones.
create table model_version (
    model_version_id integer primary key,
    created_at       bigint not null,  -- Unix seconds
    trained_events   bigint not null,  -- interaction rows the training read
    trained_until    bigint not null,  -- Unix milliseconds of the newest event read
    models           text not null,    -- JSON array of model names
    metrics          text not null,    -- JSON object: holdout NDCG@10 and friends
    status           text not null check (status in ('live', 'rejected')),
    origin           text not null,    -- 'serve' (a node's background job) or 'train'
    seconds          real not null,    -- wall time of the training
    payload          blob              -- null for a rejected version
);

create index model_version_live on model_version (status, model_version_id);

-- Per surface and variant: lists served and the reward they earned (clicks, add to cart,
-- purchases), the bandit's evidence. Nodes add their deltas; nothing is overwritten.
create table bandit_arm (
    surface     text not null,
    variant     text not null,
    impressions bigint not null default 0,
    rewards     real not null default 0,
    updated_at  bigint not null,
    primary key (surface, variant)
);

-- Categories a shopper chose at onboarding.
create table shopper_interest (
    shopper_id  integer not null references shopper (shopper_id) on delete cascade,
    category_id integer not null references category (category_id) on delete cascade,
    chosen_at   bigint not null,
    primary key (shopper_id, category_id)
);
