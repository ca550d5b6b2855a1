-- Accounts, and the log-in attempts used for throttling (SQLite).
create table account (
    account_id    integer primary key,
    email         text not null unique,
    display_name  text not null,
    password_hash text not null,
    created_at    bigint not null -- Unix seconds
);

-- One row per failed (or still running) attempt against a subject: `account:<email>`,
-- `ip:<address>` or `register:<address>`; `attempted_at` in Unix milliseconds.
create table login_attempt (
    login_attempt_id integer primary key,
    subject          text not null,
    attempted_at     bigint not null
);

create index login_attempt_subject_time on login_attempt (subject, attempted_at);
