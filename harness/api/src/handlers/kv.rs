//! The plugin's key-value store, with upstream's semantics: an empty value
//! deletes, compare-and-set with an empty old value means "only if absent",
//! expired keys are invisible, and listing is sorted and paginated.

use mm_plugin_proto::pb;

use super::common::Page;
use crate::{
    errors::ApiError,
    registry::{HandlerResult, Registry},
    world::{KvEntry, World},
};

/// Upstream's limit on key length (`model.KeyValueKeyMaxRunes`).
const MAX_KEY_CHARS: usize = 150;

pub fn register(registry: &mut Registry) {
    registry.add(kv_set);
    registry.add(kv_set_with_expiry);
    registry.add(kv_set_with_options);
    registry.add(kv_compare_and_set);
    registry.add(kv_compare_and_delete);
    registry.add(kv_get);
    registry.add(kv_delete);
    registry.add(kv_delete_all);
    registry.add(kv_list);
}

fn check_key(key: &str) -> HandlerResult<()> {
    if key.is_empty() || key.chars().count() > MAX_KEY_CHARS {
        // Upstream validates in model.PluginKeyValue.IsValid, whose text
        // (typo included) is what a plugin sees.
        return Err(ApiError::invalid(
            "PluginKeyValue.IsValid",
            "model.plugin_key_value.is_valid.key.app_error",
            format!(
                "Invalid key, must be more than 0 and a of maximum {MAX_KEY_CHARS} characters long."
            ),
        )
        .with_detail(format!("key={key}")));
    }
    Ok(())
}

/// Stores (or, for an empty value, deletes) `key`.
fn store(world: &mut World, key: &str, value: Vec<u8>, expire_in_seconds: i64) {
    if value.is_empty() {
        world.kv.remove(key);
        return;
    }
    let expires_at = (expire_in_seconds > 0).then(|| world.now_millis() + expire_in_seconds * 1000);
    world
        .kv
        .insert(key.to_owned(), KvEntry { value, expires_at });
}

/// Whether the live value of `key` is `expected` (empty: no live value).
fn current_is(world: &World, key: &str, expected: &[u8]) -> bool {
    match world.kv_get(key) {
        Some(current) => current == expected,
        None => expected.is_empty(),
    }
}

fn kv_set(world: &mut World, request: pb::KvSetRequest) -> HandlerResult<pb::KvSetResponse> {
    check_key(&request.key)?;
    store(world, &request.key, request.value, 0);
    Ok(pb::KvSetResponse { error: None })
}

fn kv_set_with_expiry(
    world: &mut World,
    request: pb::KvSetWithExpiryRequest,
) -> HandlerResult<pb::KvSetWithExpiryResponse> {
    check_key(&request.key)?;
    if request.expire_in_seconds < 0 {
        return Err(ApiError::invalid(
            "KVSetWithExpiry",
            "model.plugin_kvset_options.is_valid.expire_in_seconds.app_error",
            "expire_in_seconds must not be negative",
        ));
    }
    store(
        world,
        &request.key,
        request.value,
        request.expire_in_seconds,
    );
    Ok(pb::KvSetWithExpiryResponse { error: None })
}

fn kv_set_with_options(
    world: &mut World,
    request: pb::KvSetWithOptionsRequest,
) -> HandlerResult<pb::KvSetWithOptionsResponse> {
    check_key(&request.key)?;
    let options = request.options.unwrap_or_default();
    if !options.atomic && !options.old_value.is_empty() {
        return Err(ApiError::invalid(
            "PluginKVSetOptions.IsValid",
            "model.plugin_kvset_options.is_valid.old_value.app_error",
            "Invalid old value, it shouldn't be set when the operation is not atomic.",
        ));
    }
    if options.atomic && !current_is(world, &request.key, &options.old_value) {
        return Ok(pb::KvSetWithOptionsResponse {
            error: None,
            success: false,
        });
    }
    store(
        world,
        &request.key,
        request.value,
        options.expire_in_seconds,
    );
    Ok(pb::KvSetWithOptionsResponse {
        error: None,
        success: true,
    })
}

fn kv_compare_and_set(
    world: &mut World,
    request: pb::KvCompareAndSetRequest,
) -> HandlerResult<pb::KvCompareAndSetResponse> {
    check_key(&request.key)?;
    let success = current_is(world, &request.key, &request.old_value);
    if success {
        store(world, &request.key, request.new_value, 0);
    }
    Ok(pb::KvCompareAndSetResponse {
        error: None,
        success,
    })
}

fn kv_compare_and_delete(
    world: &mut World,
    request: pb::KvCompareAndDeleteRequest,
) -> HandlerResult<pb::KvCompareAndDeleteResponse> {
    check_key(&request.key)?;
    let success = world
        .kv_get(&request.key)
        .is_some_and(|current| current == request.old_value);
    if success {
        world.kv.remove(&request.key);
    }
    Ok(pb::KvCompareAndDeleteResponse {
        error: None,
        success,
    })
}

fn kv_get(world: &mut World, request: pb::KvGetRequest) -> HandlerResult<pb::KvGetResponse> {
    Ok(pb::KvGetResponse {
        error: None,
        value: world
            .kv_get(&request.key)
            .map(<[u8]>::to_vec)
            .unwrap_or_default(),
    })
}

fn kv_delete(
    world: &mut World,
    request: pb::KvDeleteRequest,
) -> HandlerResult<pb::KvDeleteResponse> {
    world.kv.remove(&request.key);
    Ok(pb::KvDeleteResponse { error: None })
}

fn kv_delete_all(
    world: &mut World,
    _: pb::KvDeleteAllRequest,
) -> HandlerResult<pb::KvDeleteAllResponse> {
    world.kv.clear();
    Ok(pb::KvDeleteAllResponse { error: None })
}

fn kv_list(world: &mut World, request: pb::KvListRequest) -> HandlerResult<pb::KvListResponse> {
    let page = Page::new("KVList", request.page, request.per_page)?;
    let live = world
        .kv
        .keys()
        .filter(|key| world.kv_get(key).is_some())
        .cloned();
    Ok(pb::KvListResponse {
        error: None,
        keys: page.apply(live),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn world() -> World {
        World::from_seed(&Default::default(), "p", "/p", "test").unwrap()
    }

    fn get(world: &mut World, key: &str) -> Vec<u8> {
        kv_get(world, pb::KvGetRequest { key: key.into() })
            .unwrap()
            .value
    }

    fn set(world: &mut World, key: &str, value: &[u8]) {
        kv_set(
            world,
            pb::KvSetRequest {
                key: key.into(),
                value: value.to_vec(),
            },
        )
        .unwrap();
    }

    #[test]
    fn set_get_delete_and_empty_value_deletes() {
        let mut w = world();
        set(&mut w, "a", b"1");
        assert_eq!(get(&mut w, "a"), b"1");
        set(&mut w, "a", b"");
        assert!(get(&mut w, "a").is_empty());
        assert!(w.kv.is_empty());
        set(&mut w, "b", b"2");
        kv_delete(&mut w, pb::KvDeleteRequest { key: "b".into() }).unwrap();
        assert!(get(&mut w, "b").is_empty());
    }

    #[test]
    fn compare_and_set_and_delete() {
        let mut w = world();
        let cas = |w: &mut World, old: &[u8], new: &[u8]| {
            kv_compare_and_set(
                w,
                pb::KvCompareAndSetRequest {
                    key: "k".into(),
                    old_value: old.to_vec(),
                    new_value: new.to_vec(),
                },
            )
            .unwrap()
            .success
        };
        assert!(cas(&mut w, b"", b"1"), "absent key with empty old value");
        assert!(!cas(&mut w, b"", b"2"), "present key with empty old value");
        assert!(!cas(&mut w, b"9", b"2"));
        assert!(cas(&mut w, b"1", b"2"));
        assert_eq!(get(&mut w, "k"), b"2");
        let cad = |w: &mut World, old: &[u8]| {
            kv_compare_and_delete(
                w,
                pb::KvCompareAndDeleteRequest {
                    key: "k".into(),
                    old_value: old.to_vec(),
                },
            )
            .unwrap()
            .success
        };
        assert!(!cad(&mut w, b"1"));
        assert!(cad(&mut w, b"2"));
        assert!(get(&mut w, "k").is_empty());
    }

    #[test]
    fn expiry_and_atomic_options() {
        let mut w = world();
        kv_set_with_expiry(
            &mut w,
            pb::KvSetWithExpiryRequest {
                key: "e".into(),
                value: b"v".to_vec(),
                expire_in_seconds: 10,
            },
        )
        .unwrap();
        assert_eq!(get(&mut w, "e"), b"v");
        w.clock_offset = std::time::Duration::from_secs(11);
        assert!(get(&mut w, "e").is_empty());

        let with_options = |w: &mut World, atomic: bool, old: &[u8]| {
            kv_set_with_options(
                w,
                pb::KvSetWithOptionsRequest {
                    key: "o".into(),
                    value: b"new".to_vec(),
                    options: Some(pb::PluginKvSetOptions {
                        atomic,
                        old_value: old.to_vec(),
                        expire_in_seconds: 0,
                    }),
                },
            )
        };
        assert!(with_options(&mut w, true, b"").unwrap().success);
        assert!(!with_options(&mut w, true, b"old").unwrap().success);
        assert!(with_options(&mut w, true, b"new").unwrap().success);
        let err = with_options(&mut w, false, b"x").unwrap_err();
        assert_eq!(err.status_code, 400);
    }

    #[test]
    fn list_is_sorted_paginated_and_skips_expired_keys() {
        let mut w = world();
        for key in ["c", "a", "b", "d"] {
            set(&mut w, key, b"x");
        }
        kv_set_with_expiry(
            &mut w,
            pb::KvSetWithExpiryRequest {
                key: "aa".into(),
                value: b"v".to_vec(),
                expire_in_seconds: 1,
            },
        )
        .unwrap();
        w.clock_offset = std::time::Duration::from_secs(2);
        let list = |w: &mut World, page, per_page| {
            kv_list(w, pb::KvListRequest { page, per_page })
                .unwrap()
                .keys
        };
        assert_eq!(list(&mut w, 0, 3), ["a", "b", "c"]);
        assert_eq!(list(&mut w, 1, 3), ["d"]);
        assert!(list(&mut w, 2, 3).is_empty());
        assert!(
            kv_list(
                &mut w,
                pb::KvListRequest {
                    page: -1,
                    per_page: 3
                }
            )
            .is_err()
        );
    }

    #[test]
    fn keys_are_validated() {
        let mut w = world();
        let err = kv_set(
            &mut w,
            pb::KvSetRequest {
                key: String::new(),
                value: b"x".to_vec(),
            },
        )
        .unwrap_err();
        assert_eq!(err.status_code, 400);
        let long = "k".repeat(MAX_KEY_CHARS + 1);
        assert!(
            kv_set(
                &mut w,
                pb::KvSetRequest {
                    key: long,
                    value: b"x".to_vec()
                }
            )
            .is_err()
        );
    }
}
