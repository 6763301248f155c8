//! Property groups, fields and values: the server's generic custom
//! attributes. A group is registered by name; fields belong to a group and
//! may be scoped to a target (a channel, a user...); values give a field a
//! value for one target. Deleting is soft (`delete_at`); deleting a field
//! deletes its values.

use mm_plugin_proto::pb;

use super::common::{Page, is_valid_id};
use crate::{
    errors::ApiError,
    registry::{HandlerResult, Registry},
    world::World,
};

pub fn register(registry: &mut Registry) {
    registry.add(register_property_group);
    registry.add(get_property_group);
    registry.add(create_property_field);
    registry.add(get_property_field);
    registry.add(get_property_fields);
    registry.add(get_property_field_by_name);
    registry.add(update_property_field);
    registry.add(update_property_fields);
    registry.add(delete_property_field);
    registry.add(search_property_fields);
    registry.add(count_property_fields);
    registry.add(count_property_fields_for_target);
    registry.add(create_property_value);
    registry.add(get_property_value);
    registry.add(get_property_values);
    registry.add(update_property_value);
    registry.add(update_property_values);
    registry.add(upsert_property_value);
    registry.add(upsert_property_values);
    registry.add(delete_property_value);
    registry.add(search_property_values);
    registry.add(delete_property_values_for_target);
    registry.add(delete_property_values_for_field);
}

/// `PropertyField.IsValid`'s field types.
const FIELD_TYPES: &[&str] = &["text", "select", "multiselect", "date", "user", "multiuser"];

fn field_missing(location: &str, id: &str) -> ApiError {
    ApiError::not_found(
        location,
        "app.property_field.get.app_error",
        "Unable to get property field.",
    )
    .with_detail(format!("field_id={id}"))
}

fn value_missing(location: &str, id: &str) -> ApiError {
    ApiError::not_found(
        location,
        "app.property_value.get.app_error",
        "Unable to get property value.",
    )
    .with_detail(format!("value_id={id}"))
}

/// Registering a name twice answers the same group.
pub(crate) fn register_group(world: &mut World, name: &str) -> HandlerResult<pb::PropertyGroup> {
    if name.is_empty() {
        return Err(ApiError::internal(
            "RegisterPropertyGroup",
            "app.property.register_group.app_error",
            "Unable to register property group.",
        ));
    }
    if let Some(group) = world.property_groups.get(name) {
        return Ok(group.clone());
    }
    let group = pb::PropertyGroup {
        id: world.next_id('q'),
        name: name.to_owned(),
    };
    world.property_groups.insert(name.to_owned(), group.clone());
    Ok(group)
}

fn register_property_group(
    world: &mut World,
    request: pb::RegisterPropertyGroupRequest,
) -> HandlerResult<pb::RegisterPropertyGroupResponse> {
    let group = register_group(world, &request.name)?;
    Ok(pb::RegisterPropertyGroupResponse {
        error: None,
        group: Some(group),
    })
}

fn get_property_group(
    world: &mut World,
    request: pb::GetPropertyGroupRequest,
) -> HandlerResult<pb::GetPropertyGroupResponse> {
    let group = world
        .property_groups
        .get(&request.name)
        .cloned()
        .ok_or_else(|| {
            ApiError::not_found(
                "GetPropertyGroup",
                "app.property.get_group.app_error",
                "Unable to get property group.",
            )
            .with_detail(format!("name={}", request.name))
        })?;
    Ok(pb::GetPropertyGroupResponse {
        error: None,
        group: Some(group),
    })
}

fn check_field(field: &pb::PropertyField) -> HandlerResult<()> {
    let invalid = |what: &str| {
        Err(ApiError::invalid(
            "PropertyField.IsValid",
            "model.property_field.is_valid.app_error",
            format!("Invalid property field: {what}."),
        )
        .with_detail(format!("field_id={}", field.id)))
    };
    if !is_valid_id(&field.group_id) {
        return invalid("group_id");
    }
    if field.name.is_empty() || field.name.chars().count() > 255 {
        return invalid("name");
    }
    if !FIELD_TYPES.contains(&field.r#type.as_str()) {
        return invalid("type");
    }
    Ok(())
}

/// A field of `group_id`, deleted or not, as the store reads it.
fn field_in_group<'w>(
    world: &'w World,
    location: &str,
    group_id: &str,
    field_id: &str,
) -> HandlerResult<&'w pb::PropertyField> {
    world
        .property_fields
        .get(field_id)
        .filter(|field| field.group_id == group_id)
        .ok_or_else(|| field_missing(location, field_id))
}

pub(crate) fn create_field(
    world: &mut World,
    mut field: pb::PropertyField,
) -> HandlerResult<pb::PropertyField> {
    check_field(&field)?;
    let now = world.now_millis();
    field.id = world.next_id('h');
    field.create_at = now;
    field.update_at = now;
    field.delete_at = 0;
    world
        .property_fields
        .insert(field.id.clone(), field.clone());
    Ok(field)
}

fn create_property_field(
    world: &mut World,
    request: pb::CreatePropertyFieldRequest,
) -> HandlerResult<pb::CreatePropertyFieldResponse> {
    let field = request
        .field
        .ok_or_else(|| ApiError::argument("CreatePropertyField", "field is required"))?;
    let field = create_field(world, field)?;
    Ok(pb::CreatePropertyFieldResponse {
        error: None,
        field: Some(field),
    })
}

fn get_property_field(
    world: &mut World,
    request: pb::GetPropertyFieldRequest,
) -> HandlerResult<pb::GetPropertyFieldResponse> {
    let field = field_in_group(
        world,
        "GetPropertyField",
        &request.group_id,
        &request.field_id,
    )?
    .clone();
    Ok(pb::GetPropertyFieldResponse {
        error: None,
        field: Some(field),
    })
}

/// All or nothing: one missing id fails the call.
fn get_property_fields(
    world: &mut World,
    request: pb::GetPropertyFieldsRequest,
) -> HandlerResult<pb::GetPropertyFieldsResponse> {
    let fields = request
        .ids
        .iter()
        .map(|id| field_in_group(world, "GetPropertyFields", &request.group_id, id).cloned())
        .collect::<HandlerResult<_>>()?;
    Ok(pb::GetPropertyFieldsResponse {
        error: None,
        fields,
    })
}

fn get_property_field_by_name(
    world: &mut World,
    request: pb::GetPropertyFieldByNameRequest,
) -> HandlerResult<pb::GetPropertyFieldByNameResponse> {
    let field = world
        .property_fields
        .values()
        .find(|f| {
            f.group_id == request.group_id
                && f.target_id == request.target_id
                && f.name == request.name
                && f.delete_at == 0
        })
        .cloned()
        .ok_or_else(|| {
            ApiError::not_found(
                "GetPropertyFieldByName",
                "app.property_field.get_field_by_name.app_error",
                "Unable to get property field by name.",
            )
            .with_detail(format!("name={}", request.name))
        })?;
    Ok(pb::GetPropertyFieldByNameResponse {
        error: None,
        field: Some(field),
    })
}

fn update_field(
    world: &mut World,
    location: &str,
    group_id: &str,
    mut field: pb::PropertyField,
) -> HandlerResult<pb::PropertyField> {
    let old = field_in_group(world, location, group_id, &field.id)?.clone();
    field.group_id = old.group_id;
    field.create_at = old.create_at;
    field.delete_at = old.delete_at;
    check_field(&field)?;
    field.update_at = world.now_millis();
    world
        .property_fields
        .insert(field.id.clone(), field.clone());
    Ok(field)
}

fn update_property_field(
    world: &mut World,
    request: pb::UpdatePropertyFieldRequest,
) -> HandlerResult<pb::UpdatePropertyFieldResponse> {
    let field = request
        .field
        .ok_or_else(|| ApiError::argument("UpdatePropertyField", "field is required"))?;
    let field = update_field(world, "UpdatePropertyField", &request.group_id, field)?;
    Ok(pb::UpdatePropertyFieldResponse {
        error: None,
        field: Some(field),
    })
}

/// Checked as a whole before any changes, as one transaction.
fn update_property_fields(
    world: &mut World,
    request: pb::UpdatePropertyFieldsRequest,
) -> HandlerResult<pb::UpdatePropertyFieldsResponse> {
    let location = "UpdatePropertyFields";
    for field in &request.fields {
        field_in_group(world, location, &request.group_id, &field.id)?;
        check_field(&pb::PropertyField {
            group_id: request.group_id.clone(),
            ..field.clone()
        })?;
    }
    let fields = request
        .fields
        .into_iter()
        .map(|field| update_field(world, location, &request.group_id, field))
        .collect::<HandlerResult<_>>()?;
    Ok(pb::UpdatePropertyFieldsResponse {
        error: None,
        fields,
    })
}

fn delete_property_field(
    world: &mut World,
    request: pb::DeletePropertyFieldRequest,
) -> HandlerResult<pb::DeletePropertyFieldResponse> {
    field_in_group(
        world,
        "DeletePropertyField",
        &request.group_id,
        &request.field_id,
    )?;
    let now = world.now_millis();
    if let Some(field) = world.property_fields.get_mut(&request.field_id) {
        field.delete_at = now;
    }
    delete_values(world, |v| v.field_id == request.field_id);
    Ok(pb::DeletePropertyFieldResponse { error: None })
}

/// Searches need a positive page size, as upstream's search options do.
fn search_page(location: &str, id: &str, page: i32, per_page: i32) -> HandlerResult<Page> {
    if per_page < 1 {
        return Err(ApiError::invalid(
            location,
            id,
            "Per page must be a positive integer greater than zero.",
        )
        .with_detail(format!("per_page={per_page}")));
    }
    Page::new(location, page, per_page)
}

fn fields_matching<'w>(
    world: &'w World,
    group_id: &'w str,
    target_type: &'w str,
    target_id: &'w str,
    include_deleted: bool,
) -> impl Iterator<Item = &'w pb::PropertyField> {
    world.property_fields.values().filter(move |f| {
        f.group_id == group_id
            && (target_type.is_empty() || f.target_type == target_type)
            && (target_id.is_empty() || f.target_id == target_id)
            && (include_deleted || f.delete_at == 0)
    })
}

fn search_property_fields(
    world: &mut World,
    request: pb::SearchPropertyFieldsRequest,
) -> HandlerResult<pb::SearchPropertyFieldsResponse> {
    let opts = request.opts.unwrap_or_default();
    let page = search_page(
        "SearchPropertyFields",
        "app.property_field.search.app_error",
        opts.page,
        opts.per_page,
    )?;
    let mut fields: Vec<pb::PropertyField> = fields_matching(
        world,
        &request.group_id,
        &opts.target_type,
        &opts.target_id,
        opts.include_deleted,
    )
    .cloned()
    .collect();
    fields.sort_by(|a, b| a.create_at.cmp(&b.create_at).then(a.id.cmp(&b.id)));
    Ok(pb::SearchPropertyFieldsResponse {
        error: None,
        fields: page.apply(fields),
    })
}

fn count_property_fields(
    world: &mut World,
    request: pb::CountPropertyFieldsRequest,
) -> HandlerResult<pb::CountPropertyFieldsResponse> {
    let count =
        fields_matching(world, &request.group_id, "", "", request.include_deleted).count() as i64;
    Ok(pb::CountPropertyFieldsResponse { error: None, count })
}

fn count_property_fields_for_target(
    world: &mut World,
    request: pb::CountPropertyFieldsForTargetRequest,
) -> HandlerResult<pb::CountPropertyFieldsForTargetResponse> {
    let count = fields_matching(
        world,
        &request.group_id,
        &request.target_type,
        &request.target_id,
        request.include_deleted,
    )
    .count() as i64;
    Ok(pb::CountPropertyFieldsForTargetResponse { error: None, count })
}

/// `PropertyValue.IsValid`, and the field must be a live one of the group.
fn check_value(world: &World, location: &str, value: &pb::PropertyValue) -> HandlerResult<()> {
    let invalid = |what: &str| {
        Err(ApiError::invalid(
            location,
            "model.property_value.is_valid.app_error",
            format!("Invalid property value: {what}."),
        )
        .with_detail(format!("value_id={}", value.id)))
    };
    if !is_valid_id(&value.group_id) {
        return invalid("group_id");
    }
    if !is_valid_id(&value.target_id) {
        return invalid("target_id");
    }
    if value.target_type.is_empty() {
        return invalid("target_type");
    }
    let field_live = world
        .property_fields
        .get(&value.field_id)
        .is_some_and(|f| f.group_id == value.group_id && f.delete_at == 0);
    if !field_live {
        return invalid("field_id");
    }
    Ok(())
}

fn value_in_group<'w>(
    world: &'w World,
    location: &str,
    group_id: &str,
    value_id: &str,
) -> HandlerResult<&'w pb::PropertyValue> {
    world
        .property_values
        .get(value_id)
        .filter(|v| v.group_id == group_id)
        .ok_or_else(|| value_missing(location, value_id))
}

fn live_value_for(world: &World, value: &pb::PropertyValue) -> Option<String> {
    world
        .property_values
        .values()
        .find(|v| {
            v.group_id == value.group_id
                && v.field_id == value.field_id
                && v.target_id == value.target_id
                && v.delete_at == 0
        })
        .map(|v| v.id.clone())
}

fn create_value(
    world: &mut World,
    location: &str,
    mut value: pb::PropertyValue,
) -> HandlerResult<pb::PropertyValue> {
    check_value(world, location, &value)?;
    if live_value_for(world, &value).is_some() {
        return Err(ApiError::invalid(
            location,
            "app.property_value.create.app_error",
            "The target already has a value for this field.",
        )
        .with_detail(format!(
            "field_id={} target_id={}",
            value.field_id, value.target_id
        )));
    }
    let now = world.now_millis();
    value.id = world.next_id('v');
    value.create_at = now;
    value.update_at = now;
    value.delete_at = 0;
    world
        .property_values
        .insert(value.id.clone(), value.clone());
    Ok(value)
}

fn create_property_value(
    world: &mut World,
    request: pb::CreatePropertyValueRequest,
) -> HandlerResult<pb::CreatePropertyValueResponse> {
    let value = request
        .value
        .ok_or_else(|| ApiError::argument("CreatePropertyValue", "value is required"))?;
    let value = create_value(world, "CreatePropertyValue", value)?;
    Ok(pb::CreatePropertyValueResponse {
        error: None,
        value: Some(value),
    })
}

fn get_property_value(
    world: &mut World,
    request: pb::GetPropertyValueRequest,
) -> HandlerResult<pb::GetPropertyValueResponse> {
    let value = value_in_group(
        world,
        "GetPropertyValue",
        &request.group_id,
        &request.value_id,
    )?
    .clone();
    Ok(pb::GetPropertyValueResponse {
        error: None,
        value: Some(value),
    })
}

fn get_property_values(
    world: &mut World,
    request: pb::GetPropertyValuesRequest,
) -> HandlerResult<pb::GetPropertyValuesResponse> {
    let values = request
        .ids
        .iter()
        .map(|id| value_in_group(world, "GetPropertyValues", &request.group_id, id).cloned())
        .collect::<HandlerResult<_>>()?;
    Ok(pb::GetPropertyValuesResponse {
        error: None,
        values,
    })
}

/// The value changes; its field, target and times stay.
fn update_value(
    world: &mut World,
    location: &str,
    group_id: &str,
    change: pb::PropertyValue,
) -> HandlerResult<pb::PropertyValue> {
    let mut value = value_in_group(world, location, group_id, &change.id)?.clone();
    value.value = change.value;
    value.update_at = world.now_millis();
    world
        .property_values
        .insert(value.id.clone(), value.clone());
    Ok(value)
}

fn update_property_value(
    world: &mut World,
    request: pb::UpdatePropertyValueRequest,
) -> HandlerResult<pb::UpdatePropertyValueResponse> {
    let value = request
        .value
        .ok_or_else(|| ApiError::argument("UpdatePropertyValue", "value is required"))?;
    let value = update_value(world, "UpdatePropertyValue", &request.group_id, value)?;
    Ok(pb::UpdatePropertyValueResponse {
        error: None,
        value: Some(value),
    })
}

fn update_property_values(
    world: &mut World,
    request: pb::UpdatePropertyValuesRequest,
) -> HandlerResult<pb::UpdatePropertyValuesResponse> {
    let location = "UpdatePropertyValues";
    for value in &request.values {
        value_in_group(world, location, &request.group_id, &value.id)?;
    }
    let values = request
        .values
        .into_iter()
        .map(|value| update_value(world, location, &request.group_id, value))
        .collect::<HandlerResult<_>>()?;
    Ok(pb::UpdatePropertyValuesResponse {
        error: None,
        values,
    })
}

/// By (group, field, target): the live value changes, or one is created.
fn upsert_value(
    world: &mut World,
    location: &str,
    value: pb::PropertyValue,
) -> HandlerResult<pb::PropertyValue> {
    check_value(world, location, &value)?;
    match live_value_for(world, &value) {
        Some(id) => {
            let group_id = value.group_id.clone();
            update_value(
                world,
                location,
                &group_id,
                pb::PropertyValue { id, ..value },
            )
        }
        None => create_value(world, location, value),
    }
}

fn upsert_property_value(
    world: &mut World,
    request: pb::UpsertPropertyValueRequest,
) -> HandlerResult<pb::UpsertPropertyValueResponse> {
    let value = request
        .value
        .ok_or_else(|| ApiError::argument("UpsertPropertyValue", "value is required"))?;
    let value = upsert_value(world, "UpsertPropertyValue", value)?;
    Ok(pb::UpsertPropertyValueResponse {
        error: None,
        value: Some(value),
    })
}

fn upsert_property_values(
    world: &mut World,
    request: pb::UpsertPropertyValuesRequest,
) -> HandlerResult<pb::UpsertPropertyValuesResponse> {
    let location = "UpsertPropertyValues";
    for value in &request.values {
        check_value(world, location, value)?;
    }
    let values = request
        .values
        .into_iter()
        .map(|value| upsert_value(world, location, value))
        .collect::<HandlerResult<_>>()?;
    Ok(pb::UpsertPropertyValuesResponse {
        error: None,
        values,
    })
}

fn delete_values(world: &mut World, matches: impl Fn(&pb::PropertyValue) -> bool) {
    let now = world.now_millis();
    for value in world.property_values.values_mut() {
        if value.delete_at == 0 && matches(value) {
            value.delete_at = now;
        }
    }
}

fn delete_property_value(
    world: &mut World,
    request: pb::DeletePropertyValueRequest,
) -> HandlerResult<pb::DeletePropertyValueResponse> {
    value_in_group(
        world,
        "DeletePropertyValue",
        &request.group_id,
        &request.value_id,
    )?;
    delete_values(world, |v| v.id == request.value_id);
    Ok(pb::DeletePropertyValueResponse { error: None })
}

fn search_property_values(
    world: &mut World,
    request: pb::SearchPropertyValuesRequest,
) -> HandlerResult<pb::SearchPropertyValuesResponse> {
    let opts = request.opts.unwrap_or_default();
    let page = search_page(
        "SearchPropertyValues",
        "app.property_value.search.app_error",
        opts.page,
        opts.per_page,
    )?;
    let mut values: Vec<pb::PropertyValue> = world
        .property_values
        .values()
        .filter(|v| v.group_id == request.group_id)
        .filter(|v| opts.target_type.is_empty() || v.target_type == opts.target_type)
        .filter(|v| opts.target_id.is_empty() || v.target_id == opts.target_id)
        .filter(|v| opts.field_id.is_empty() || v.field_id == opts.field_id)
        .filter(|v| opts.include_deleted || v.delete_at == 0)
        .cloned()
        .collect();
    values.sort_by(|a, b| a.create_at.cmp(&b.create_at).then(a.id.cmp(&b.id)));
    Ok(pb::SearchPropertyValuesResponse {
        error: None,
        values: page.apply(values),
    })
}

fn delete_property_values_for_target(
    world: &mut World,
    request: pb::DeletePropertyValuesForTargetRequest,
) -> HandlerResult<pb::DeletePropertyValuesForTargetResponse> {
    delete_values(world, |v| {
        v.group_id == request.group_id
            && v.target_type == request.target_type
            && v.target_id == request.target_id
    });
    Ok(pb::DeletePropertyValuesForTargetResponse { error: None })
}

fn delete_property_values_for_field(
    world: &mut World,
    request: pb::DeletePropertyValuesForFieldRequest,
) -> HandlerResult<pb::DeletePropertyValuesForFieldResponse> {
    delete_values(world, |v| {
        v.group_id == request.group_id && v.field_id == request.field_id
    });
    Ok(pb::DeletePropertyValuesForFieldResponse { error: None })
}

#[cfg(test)]
mod tests {
    use super::*;

    const ALICE: &str = "ualice00000000000000000000";
    const BOB: &str = "ubob0000000000000000000000";

    fn world() -> World {
        World::from_seed(&World::default_seed(), "p", "/p", "default").unwrap()
    }

    fn text(value: &str) -> Option<prost_types::Value> {
        Some(prost_types::Value {
            kind: Some(prost_types::value::Kind::StringValue(value.into())),
        })
    }

    #[test]
    fn fields_are_created_found_searched_and_deleted() {
        let mut w = world();
        let group = register_group(&mut w, "cpa").unwrap();
        assert_eq!(register_group(&mut w, "cpa").unwrap(), group);
        let field = create_field(
            &mut w,
            pb::PropertyField {
                group_id: group.id.clone(),
                name: "Team".into(),
                r#type: "text".into(),
                ..Default::default()
            },
        )
        .unwrap();
        let err = create_field(
            &mut w,
            pb::PropertyField {
                group_id: group.id.clone(),
                name: "x".into(),
                r#type: "colour".into(),
                ..Default::default()
            },
        )
        .unwrap_err();
        assert_eq!(err.id, "model.property_field.is_valid.app_error");
        let found = get_property_field_by_name(
            &mut w,
            pb::GetPropertyFieldByNameRequest {
                group_id: group.id.clone(),
                target_id: String::new(),
                name: "Team".into(),
            },
        )
        .unwrap();
        assert_eq!(found.field.unwrap().id, field.id);
        let err = search_property_fields(
            &mut w,
            pb::SearchPropertyFieldsRequest {
                group_id: group.id.clone(),
                opts: None,
            },
        )
        .unwrap_err();
        assert_eq!(err.id, "app.property_field.search.app_error");
        delete_property_field(
            &mut w,
            pb::DeletePropertyFieldRequest {
                group_id: group.id.clone(),
                field_id: field.id.clone(),
            },
        )
        .unwrap();
        let count = |w: &mut World, include_deleted| {
            count_property_fields(
                w,
                pb::CountPropertyFieldsRequest {
                    group_id: group.id.clone(),
                    include_deleted,
                },
            )
            .unwrap()
            .count
        };
        assert_eq!((count(&mut w, false), count(&mut w, true)), (0, 1));
        let err = get_property_field(
            &mut w,
            pb::GetPropertyFieldRequest {
                group_id: "other".into(),
                field_id: field.id,
            },
        )
        .unwrap_err();
        assert_eq!(
            (err.status_code, err.id.as_str()),
            (404, "app.property_field.get.app_error")
        );
    }

    #[test]
    fn values_are_one_per_field_and_target_and_upserted() {
        let mut w = world();
        let group = register_group(&mut w, "cpa").unwrap();
        let field = create_field(
            &mut w,
            pb::PropertyField {
                group_id: group.id.clone(),
                name: "Team".into(),
                r#type: "text".into(),
                ..Default::default()
            },
        )
        .unwrap();
        let value = |target: &str, text_value: &str| pb::PropertyValue {
            group_id: group.id.clone(),
            field_id: field.id.clone(),
            target_id: target.into(),
            target_type: "user".into(),
            value: text(text_value),
            ..Default::default()
        };
        let created = create_value(&mut w, "t", value(ALICE, "red")).unwrap();
        assert_eq!(
            create_value(&mut w, "t", value(ALICE, "blue"))
                .unwrap_err()
                .id,
            "app.property_value.create.app_error"
        );
        let upserted = upsert_value(&mut w, "t", value(ALICE, "blue")).unwrap();
        assert_eq!(
            (upserted.id.as_str(), upserted.value.clone()),
            (created.id.as_str(), text("blue"))
        );
        upsert_value(&mut w, "t", value(BOB, "green")).unwrap();
        let search = |w: &mut World, target: &str| {
            search_property_values(
                w,
                pb::SearchPropertyValuesRequest {
                    group_id: group.id.clone(),
                    opts: Some(pb::PropertyValueSearchOpts {
                        per_page: 10,
                        target_id: target.into(),
                        ..Default::default()
                    }),
                },
            )
            .unwrap()
            .values
            .len()
        };
        assert_eq!((search(&mut w, ""), search(&mut w, BOB)), (2, 1));
        delete_property_values_for_target(
            &mut w,
            pb::DeletePropertyValuesForTargetRequest {
                group_id: group.id.clone(),
                target_type: "user".into(),
                target_id: BOB.into(),
            },
        )
        .unwrap();
        assert_eq!(search(&mut w, ""), 1);
        delete_property_field(
            &mut w,
            pb::DeletePropertyFieldRequest {
                group_id: group.id.clone(),
                field_id: field.id.clone(),
            },
        )
        .unwrap();
        assert_eq!(search(&mut w, ""), 0, "a deleted field's values go with it");
        let err = check_value(&w, "t", &value(ALICE, "x")).unwrap_err();
        assert_eq!(err.id, "model.property_value.is_valid.app_error");
    }
}
