-- Accounts and the record of failed log-ins used for throttling (PostgreSQL).
create table account (
    account_id    bigint generated always as identity primary key,
    email         text not null unique,
    display_name  text not null,
    password_hash text not null,
    created_at    bigint not null
);

create table login_failure (
    login_failure_id bigint generated always as identity primary key,
    subject          text not null,
    failed_at        bigint not null
);

create index login_failure_subject_time on login_failure (subject, failed_at);
