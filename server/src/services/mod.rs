//! What the pages and server functions call: accounts, the shop, search and its facets, the merchant's
//! insights and their charts, and seeding the demo shop.

pub mod accounts;
pub mod charts;
pub mod facets;
pub mod insights;
pub mod search;
pub mod seed;
pub mod shop;
pub mod why;
