//! "Did you mean" for protocol names.

/// The candidate closest to a misspelt `name`, if one is close enough to be
/// a plausible intent (case is ignored).
pub fn closest_name(name: &str, candidates: impl IntoIterator<Item = String>) -> Option<String> {
    let wanted = name.to_lowercase();
    candidates
        .into_iter()
        .map(|candidate| {
            (
                strsim::damerau_levenshtein(&wanted, &candidate.to_lowercase()),
                candidate,
            )
        })
        .filter(|(distance, candidate)| *distance <= candidate.len() / 3 + 1)
        .min()
        .map(|(_, candidate)| candidate)
}

/// The closest PluginAPI method name.
pub fn closest_api_method(name: &str) -> Option<String> {
    closest_name(
        name,
        mm_plugin_proto::api_service()
            .methods()
            .map(|m| m.name().to_owned()),
    )
}

/// Whether `name` is a PluginAPI method.
pub fn is_api_method(name: &str) -> bool {
    mm_plugin_proto::api_service()
        .methods()
        .any(|m| m.name() == name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn close_names_are_suggested_and_far_ones_are_not() {
        assert_eq!(closest_api_method("KVset").as_deref(), Some("KVSet"));
        assert_eq!(
            closest_api_method("CreatPost").as_deref(),
            Some("CreatePost")
        );
        assert_eq!(closest_api_method("Frobnicate"), None);
        assert!(is_api_method("GetUser"));
    }
}
