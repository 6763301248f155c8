//! Handlers for the modelled PluginAPI methods, one module per area of the
//! protocol. Methods without a handler answer "not modelled", naming the
//! method, and are listed in the run report.

mod config;
mod kv;
mod logging;
mod posts;
mod server;
mod teams_channels;
mod users;

use super::registry::Registry;

pub fn registry() -> Registry {
    let mut registry = Registry::default();
    server::register(&mut registry);
    config::register(&mut registry);
    kv::register(&mut registry);
    logging::register(&mut registry);
    users::register(&mut registry);
    teams_channels::register(&mut registry);
    posts::register(&mut registry);
    registry
}

#[cfg(test)]
mod tests {
    #[test]
    fn every_handler_matches_its_method_in_the_protocol() {
        // Building the registry asserts every handler's types against the
        // descriptor; reaching the count means none was wired wrongly.
        let methods = super::registry().methods();
        assert!(methods.len() >= 40, "{}", methods.len());
        assert!(methods.contains(&"GetServerVersion"));
    }
}
