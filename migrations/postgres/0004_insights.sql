-- Merchant insights: an admin role, live per-strategy counts over time, and the training
-- curves of each model version.

-- `admin` accounts see the insights; `curio admin create` grants the role.
alter table account add column role text not null default 'shopper'
    check (role in ('shopper', 'admin'));

-- Per surface, variant and minute: lists served and the engagements attributed to them.
-- Nodes add their deltas (as for bandit_arm); nothing is overwritten.
create table strategy_stat (
    surface     text not null,
    variant     text not null,
    minute      bigint not null, -- Unix seconds of the minute's start
    impressions bigint not null default 0,
    clicks      bigint not null default 0,
    carts       bigint not null default 0,
    purchases   bigint not null default 0,
    primary key (surface, variant, minute)
);

create index strategy_stat_minute on strategy_stat (minute);

-- Per model, its epochs (loss, validation NDCG@10, seconds), as a JSON object.
alter table model_version add column curves text not null default '{}';
