//! Deterministic synthetic population: the demo district of the 6·13 story
//! and a city of any size, streamed into a [`gridsweep_storage::Store`].
//!
//! One seed fixes everything — names, ID numbers, phones, the tree — so a
//! drill, a test or a benchmark can be replayed on the same roster. The
//! demo district (高新区, with the story's real place names, see [`names`])
//! always comes first; asking for more people adds Zhengzhou's other
//! districts. Memory stays flat at any size: persons are written in
//! batches of [`BATCH_PERSONS`] and forgotten.
#![forbid(unsafe_code)]

mod city;
mod demo;
mod generate;
mod household;
mod ids;
mod layout;
pub mod names;
mod rng;
mod words;
mod writer;

pub use demo::{DEMO_PEOPLE, WAWULI_RESIDENTS};
pub use generate::{GenError, GenProgress, GenSpec, GenSummary, generate};
pub use ids::ZHENGZHOU_REGIONS;
pub use writer::BATCH_PERSONS;
