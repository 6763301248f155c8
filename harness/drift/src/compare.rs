//! Compares the definitions of one package in two descriptor pools.
//!
//! Services, messages and enums are matched by full name, methods by name. Fields are matched
//! first by name, to catch a field whose number differs (the one change that silently loses data
//! both ways), then, among the rest, by number, as the wire matches them: a pair under one number
//! is compared for type, cardinality, oneof membership and name. Enum values are matched the
//! same way. Map entry messages are not compared on their own: a map field is described and
//! compared as `map<K, V>`, so renaming a map field (which renames its entry) is only a rename.
//! Each difference is classified by the rules in [`crate::rules`].

use std::collections::{BTreeMap, BTreeSet};

use prost_reflect::{
    DescriptorPool, EnumDescriptor, FieldDescriptor, Kind, MessageDescriptor, MethodDescriptor,
    ServiceDescriptor,
};

use crate::{
    report::{Difference, Report},
    rules::Rule,
};

/// Why two pools cannot be compared.
#[derive(Debug, thiserror::Error)]
pub enum CompareError {
    #[error("the {side} defines nothing in package {package} (packages found: {found})")]
    PackageMissing {
        side: &'static str,
        package: String,
        found: String,
    },
}

/// Compares everything `harness` and `sdk` define in `package`.
pub fn compare(
    harness: &DescriptorPool,
    sdk: &DescriptorPool,
    package: &str,
) -> Result<Report, CompareError> {
    require_package(harness, "harness's protocol", package)?;
    require_package(sdk, "SDK's protocol", package)?;
    let mut comparison = Comparison {
        package,
        differences: Vec::new(),
    };
    comparison.services(
        named(harness.services(), package),
        named(sdk.services(), package),
    );
    comparison.messages(
        named(harness.all_messages(), package),
        named(sdk.all_messages(), package),
    );
    comparison.enums(
        named(harness.all_enums(), package),
        named(sdk.all_enums(), package),
    );
    Ok(Report::new(package, comparison.differences))
}

fn require_package(
    pool: &DescriptorPool,
    side: &'static str,
    package: &str,
) -> Result<(), CompareError> {
    if pool.files().any(|file| file.package_name() == package) {
        return Ok(());
    }
    let found: BTreeSet<String> = pool
        .files()
        .map(|file| file.package_name().to_owned())
        .filter(|name| !name.starts_with("google.protobuf"))
        .collect();
    Err(CompareError::PackageMissing {
        side,
        package: package.to_owned(),
        found: if found.is_empty() {
            "none besides Google's well-known types".to_owned()
        } else {
            found.into_iter().collect::<Vec<_>>().join(", ")
        },
    })
}

/// A definition of a pool that has a full name and a package.
trait Definition: Clone {
    fn full_name(&self) -> &str;
    fn package_name(&self) -> &str;
    /// Definitions compared through others (map entries, through their map field).
    fn compared_elsewhere(&self) -> bool {
        false
    }
}

impl Definition for ServiceDescriptor {
    fn full_name(&self) -> &str {
        ServiceDescriptor::full_name(self)
    }
    fn package_name(&self) -> &str {
        ServiceDescriptor::package_name(self)
    }
}

impl Definition for MessageDescriptor {
    fn full_name(&self) -> &str {
        MessageDescriptor::full_name(self)
    }
    fn package_name(&self) -> &str {
        MessageDescriptor::package_name(self)
    }
    fn compared_elsewhere(&self) -> bool {
        self.is_map_entry()
    }
}

impl Definition for EnumDescriptor {
    fn full_name(&self) -> &str {
        EnumDescriptor::full_name(self)
    }
    fn package_name(&self) -> &str {
        EnumDescriptor::package_name(self)
    }
}

fn named<D: Definition>(
    definitions: impl Iterator<Item = D>,
    package: &str,
) -> BTreeMap<String, D> {
    definitions
        .filter(|definition| {
            definition.package_name() == package && !definition.compared_elsewhere()
        })
        .map(|definition| (definition.full_name().to_owned(), definition))
        .collect()
}

/// Each side of a pairing: in both, in the harness only, in the SDK only.
enum Side<T> {
    Both(T, T),
    HarnessOnly(T),
    SdkOnly(T),
}

/// Pairs two name-keyed maps, in name order.
fn pair_by_name<T>(mut harness: BTreeMap<String, T>, sdk: BTreeMap<String, T>) -> Vec<Side<T>> {
    let mut sides = Vec::new();
    let mut sdk = sdk;
    let names: BTreeSet<String> = harness.keys().chain(sdk.keys()).cloned().collect();
    for name in names {
        sides.push(match (harness.remove(&name), sdk.remove(&name)) {
            (Some(ours), Some(theirs)) => Side::Both(ours, theirs),
            (Some(ours), None) => Side::HarnessOnly(ours),
            (None, Some(theirs)) => Side::SdkOnly(theirs),
            (None, None) => unreachable!("every name comes from one of the maps"),
        });
    }
    sides
}

struct Comparison<'a> {
    package: &'a str,
    differences: Vec<Difference>,
}

impl Comparison<'_> {
    fn add(
        &mut self,
        group: &str,
        item: String,
        harness: Option<String>,
        sdk: Option<String>,
        rule: Rule,
        note: Option<String>,
    ) {
        let detail = match note {
            Some(note) => format!("{}; {note}", rule.consequence()),
            None => rule.consequence().to_owned(),
        };
        self.differences.push(Difference {
            group: group.to_owned(),
            item,
            harness,
            sdk,
            rule,
            compatibility: rule.compatibility(),
            detail,
        });
    }

    /// A full name with this package's prefix left out, as a reader would write it.
    fn short<'n>(&self, full_name: &'n str) -> &'n str {
        full_name
            .strip_prefix(self.package)
            .and_then(|rest| rest.strip_prefix('.'))
            .unwrap_or(full_name)
    }

    fn services(
        &mut self,
        harness: BTreeMap<String, ServiceDescriptor>,
        sdk: BTreeMap<String, ServiceDescriptor>,
    ) {
        for side in pair_by_name(harness, sdk) {
            match side {
                Side::Both(ours, theirs) => self.methods(&ours, &theirs),
                Side::HarnessOnly(service) => {
                    let summary = format!("{} methods", service.methods().len());
                    let group = format!("service {}", service.full_name());
                    self.add(
                        &group,
                        "service".into(),
                        Some(summary),
                        None,
                        Rule::ServiceNoDelete,
                        None,
                    );
                }
                Side::SdkOnly(service) => {
                    let summary = format!("{} methods", service.methods().len());
                    let group = format!("service {}", service.full_name());
                    self.add(
                        &group,
                        "service".into(),
                        None,
                        Some(summary),
                        Rule::ServiceAdded,
                        None,
                    );
                }
            }
        }
    }

    fn methods(&mut self, harness: &ServiceDescriptor, sdk: &ServiceDescriptor) {
        let group = format!("service {}", harness.full_name());
        let methods = |service: &ServiceDescriptor| -> BTreeMap<String, MethodDescriptor> {
            service
                .methods()
                .map(|method| (method.name().to_owned(), method))
                .collect()
        };
        for side in pair_by_name(methods(harness), methods(sdk)) {
            match side {
                Side::Both(ours, theirs) => self.method_pair(&group, &ours, &theirs),
                Side::HarnessOnly(method) => {
                    let item = format!("method {}", method.name());
                    let signature = self.signature(&method);
                    self.add(&group, item, Some(signature), None, Rule::RpcNoDelete, None);
                }
                Side::SdkOnly(method) => {
                    let item = format!("method {}", method.name());
                    let signature = self.signature(&method);
                    self.add(&group, item, None, Some(signature), Rule::RpcAdded, None);
                }
            }
        }
    }

    fn signature(&self, method: &MethodDescriptor) -> String {
        let stream = |streaming: bool| if streaming { "stream " } else { "" };
        format!(
            "rpc {}({}{}) returns ({}{})",
            method.name(),
            stream(method.is_client_streaming()),
            self.short(method.input().full_name()),
            stream(method.is_server_streaming()),
            self.short(method.output().full_name()),
        )
    }

    fn method_pair(&mut self, group: &str, harness: &MethodDescriptor, sdk: &MethodDescriptor) {
        let item = || format!("method {}", harness.name());
        let checks = [
            (
                harness.input().full_name().to_owned(),
                sdk.input().full_name().to_owned(),
                Rule::RpcSameRequestType,
                "request",
            ),
            (
                harness.output().full_name().to_owned(),
                sdk.output().full_name().to_owned(),
                Rule::RpcSameResponseType,
                "response",
            ),
        ];
        for (ours, theirs, rule, what) in checks {
            if ours != theirs {
                let (ours, theirs) = (
                    format!("{what} {}", self.short(&ours)),
                    format!("{what} {}", self.short(&theirs)),
                );
                self.add(group, item(), Some(ours), Some(theirs), rule, None);
            }
        }
        let streaming = [
            (
                harness.is_client_streaming(),
                sdk.is_client_streaming(),
                Rule::RpcSameClientStreaming,
                "client",
            ),
            (
                harness.is_server_streaming(),
                sdk.is_server_streaming(),
                Rule::RpcSameServerStreaming,
                "server",
            ),
        ];
        for (ours, theirs, rule, who) in streaming {
            if ours != theirs {
                let describe = |streams: bool| {
                    format!(
                        "{who} {}",
                        if streams {
                            "streams"
                        } else {
                            "sends one message"
                        }
                    )
                };
                self.add(
                    group,
                    item(),
                    Some(describe(ours)),
                    Some(describe(theirs)),
                    rule,
                    None,
                );
            }
        }
    }

    fn messages(
        &mut self,
        harness: BTreeMap<String, MessageDescriptor>,
        sdk: BTreeMap<String, MessageDescriptor>,
    ) {
        for side in pair_by_name(harness, sdk) {
            match side {
                Side::Both(ours, theirs) => self.fields(&ours, &theirs),
                Side::HarnessOnly(message) => {
                    let group = format!("message {}", message.full_name());
                    let summary = format!("{} fields", message.fields().len());
                    self.add(
                        &group,
                        "message".into(),
                        Some(summary),
                        None,
                        Rule::MessageNoDelete,
                        None,
                    );
                }
                Side::SdkOnly(message) => {
                    let group = format!("message {}", message.full_name());
                    let summary = format!("{} fields", message.fields().len());
                    self.add(
                        &group,
                        "message".into(),
                        None,
                        Some(summary),
                        Rule::MessageAdded,
                        None,
                    );
                }
            }
        }
    }

    fn fields(&mut self, harness: &MessageDescriptor, sdk: &MessageDescriptor) {
        let group = format!("message {}", harness.full_name());
        let by_number = |message: &MessageDescriptor| {
            let mut fields: Vec<FieldDescriptor> = message.fields().collect();
            fields.sort_by_key(FieldDescriptor::number);
            fields
        };
        let (ours, theirs) = (by_number(harness), by_number(sdk));
        // Numbers already accounted for on each side.
        let mut ours_done = BTreeSet::new();
        let mut theirs_done = BTreeSet::new();

        for field in &ours {
            if let Some(other) = sdk.get_field_by_name(field.name())
                && other.number() != field.number()
            {
                self.add(
                    &group,
                    format!("field {}", field.name()),
                    Some(self.declaration(field)),
                    Some(self.declaration(&other)),
                    Rule::FieldSameNumber,
                    None,
                );
                ours_done.insert(field.number());
                theirs_done.insert(other.number());
            }
        }
        for field in ours.iter().filter(|f| !ours_done.contains(&f.number())) {
            let other = sdk
                .get_field(field.number())
                .filter(|other| !theirs_done.contains(&other.number()));
            match other {
                Some(other) => {
                    theirs_done.insert(other.number());
                    self.field_pair(&group, field, &other);
                }
                None => {
                    let reserved = sdk
                        .reserved_ranges()
                        .any(|range| range.contains(&field.number()));
                    let note = if reserved {
                        format!("the SDK reserves number {}", field.number())
                    } else {
                        format!("the SDK does not reserve number {}", field.number())
                    };
                    self.add(
                        &group,
                        format!("field {}", field.name()),
                        Some(self.declaration(field)),
                        None,
                        Rule::FieldNoDelete,
                        Some(note),
                    );
                }
            }
        }
        for field in theirs.iter().filter(|f| !theirs_done.contains(&f.number())) {
            self.add(
                &group,
                format!("field {}", field.name()),
                None,
                Some(self.declaration(field)),
                Rule::FieldAdded,
                None,
            );
        }
    }

    /// The field as it would be declared: `repeated string user_ids = 3`.
    fn declaration(&self, field: &FieldDescriptor) -> String {
        let label = if field.is_map() {
            ""
        } else if field.is_list() {
            "repeated "
        } else if field.is_required() {
            "required "
        } else if explicit_presence(field) && !matches!(field.kind(), Kind::Message(_)) {
            "optional "
        } else {
            ""
        };
        let oneof = match real_oneof(field) {
            Some(name) => format!(" (in oneof {name})"),
            None => String::new(),
        };
        format!(
            "{label}{} {} = {}{oneof}",
            self.type_name(field),
            field.name(),
            field.number()
        )
    }

    fn type_name(&self, field: &FieldDescriptor) -> String {
        match (field.kind(), field.is_map()) {
            (Kind::Message(entry), true) => format!(
                "map<{}, {}>",
                self.kind_name(&entry.map_entry_key_field().kind()),
                self.kind_name(&entry.map_entry_value_field().kind())
            ),
            (kind, _) if field.is_group() => format!("group {}", self.kind_name(&kind)),
            (kind, _) => self.kind_name(&kind),
        }
    }

    fn kind_name(&self, kind: &Kind) -> String {
        match kind {
            Kind::Message(message) => self.short(message.full_name()).to_owned(),
            Kind::Enum(enumeration) => self.short(enumeration.full_name()).to_owned(),
            scalar => scalar_name(scalar).to_owned(),
        }
    }

    fn field_pair(&mut self, group: &str, harness: &FieldDescriptor, sdk: &FieldDescriptor) {
        let item = format!("field {}", harness.name());
        let (ours, theirs) = (self.declaration(harness), self.declaration(sdk));
        let renamed = harness.name() != sdk.name();
        let verdict = field_type_verdict(harness, sdk);
        match verdict {
            TypeVerdict::Same => {}
            TypeVerdict::SameWireGroup => self.add(
                group,
                item.clone(),
                Some(ours.clone()),
                Some(theirs.clone()),
                Rule::FieldSameType,
                None,
            ),
            TypeVerdict::Incompatible => {
                let note = renamed
                    .then(|| format!("number {} is used by another field", harness.number()));
                self.add(
                    group,
                    item.clone(),
                    Some(ours.clone()),
                    Some(theirs.clone()),
                    Rule::FieldWireCompatibleType,
                    note,
                );
            }
        }
        if renamed && verdict != TypeVerdict::Incompatible {
            self.add(
                group,
                item.clone(),
                Some(ours.clone()),
                Some(theirs.clone()),
                Rule::FieldSameName,
                None,
            );
        }
        let (our_cardinality, their_cardinality) = (cardinality(harness), cardinality(sdk));
        if our_cardinality.wire_group() != their_cardinality.wire_group() {
            self.add(
                group,
                item.clone(),
                Some(ours.clone()),
                Some(theirs.clone()),
                Rule::FieldWireCompatibleCardinality,
                None,
            );
        } else if our_cardinality != their_cardinality {
            self.add(
                group,
                item.clone(),
                Some(ours.clone()),
                Some(theirs.clone()),
                Rule::FieldSameCardinality,
                None,
            );
        }
        if real_oneof(harness) != real_oneof(sdk) {
            self.add(
                group,
                item,
                Some(ours),
                Some(theirs),
                Rule::FieldSameOneof,
                None,
            );
        }
    }

    fn enums(
        &mut self,
        harness: BTreeMap<String, EnumDescriptor>,
        sdk: BTreeMap<String, EnumDescriptor>,
    ) {
        for side in pair_by_name(harness, sdk) {
            match side {
                Side::Both(ours, theirs) => self.enum_values(&ours, &theirs),
                Side::HarnessOnly(enumeration) => {
                    let group = format!("enum {}", enumeration.full_name());
                    let summary = format!("{} values", enumeration.values().len());
                    self.add(
                        &group,
                        "enum".into(),
                        Some(summary),
                        None,
                        Rule::EnumNoDelete,
                        None,
                    );
                }
                Side::SdkOnly(enumeration) => {
                    let group = format!("enum {}", enumeration.full_name());
                    let summary = format!("{} values", enumeration.values().len());
                    self.add(
                        &group,
                        "enum".into(),
                        None,
                        Some(summary),
                        Rule::EnumAdded,
                        None,
                    );
                }
            }
        }
    }

    fn enum_values(&mut self, harness: &EnumDescriptor, sdk: &EnumDescriptor) {
        let group = format!("enum {}", harness.full_name());
        let declaration = |value: &prost_reflect::EnumValueDescriptor| {
            format!("{} = {}", value.name(), value.number())
        };
        let mut ours_done = BTreeSet::new();
        let mut theirs_done = BTreeSet::new();
        for value in harness.values() {
            if let Some(other) = sdk.get_value_by_name(value.name())
                && other.number() != value.number()
            {
                self.add(
                    &group,
                    format!("value {}", value.name()),
                    Some(declaration(&value)),
                    Some(declaration(&other)),
                    Rule::EnumValueSameNumber,
                    None,
                );
                ours_done.insert(value.number());
                theirs_done.insert(other.number());
            }
        }
        for value in harness
            .values()
            .filter(|v| !ours_done.contains(&v.number()))
        {
            let item = format!("value {}", value.name());
            let other = sdk
                .get_value(value.number())
                .filter(|other| !theirs_done.contains(&other.number()));
            match other {
                Some(other) => {
                    theirs_done.insert(other.number());
                    if other.name() != value.name() {
                        self.add(
                            &group,
                            item,
                            Some(declaration(&value)),
                            Some(declaration(&other)),
                            Rule::EnumValueSameName,
                            None,
                        );
                    }
                }
                None => {
                    let reserved = sdk
                        .reserved_ranges()
                        .any(|range| range.contains(&value.number()));
                    let note = if reserved {
                        format!("the SDK reserves number {}", value.number())
                    } else {
                        format!("the SDK does not reserve number {}", value.number())
                    };
                    self.add(
                        &group,
                        item,
                        Some(declaration(&value)),
                        None,
                        Rule::EnumValueNoDelete,
                        Some(note),
                    );
                }
            }
        }
        for value in sdk.values().filter(|v| !theirs_done.contains(&v.number())) {
            self.add(
                &group,
                format!("value {}", value.name()),
                None,
                Some(declaration(&value)),
                Rule::EnumValueAdded,
                None,
            );
        }
    }
}

/// Whether the field tracks presence of its own (proto3 `optional`, proto2 `optional`, a
/// message, a oneof member), as opposed to treating the default as unset.
fn explicit_presence(field: &FieldDescriptor) -> bool {
    !field.is_list() && !field.is_map() && field.supports_presence()
}

/// The oneof the field is in, unless it is the synthetic one proto3 `optional` creates.
fn real_oneof(field: &FieldDescriptor) -> Option<String> {
    field
        .containing_oneof()
        .filter(|oneof| !oneof.is_synthetic())
        .map(|oneof| oneof.name().to_owned())
}

/// How a field's values are laid out, after buf's cardinality groups.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Cardinality {
    Optional { explicit_presence: bool },
    Required,
    Repeated,
    Map,
}

impl Cardinality {
    /// Cardinalities of one group read each other's encodings.
    fn wire_group(self) -> u8 {
        match self {
            Cardinality::Optional { .. } => 1,
            Cardinality::Required => 2,
            // A map is a repeated entry message on the wire.
            Cardinality::Repeated | Cardinality::Map => 3,
        }
    }
}

fn cardinality(field: &FieldDescriptor) -> Cardinality {
    if field.is_map() {
        Cardinality::Map
    } else if field.is_list() {
        Cardinality::Repeated
    } else if field.is_required() {
        Cardinality::Required
    } else {
        Cardinality::Optional {
            explicit_presence: explicit_presence(field),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum TypeVerdict {
    Same,
    /// Different types that read each other's encoding (`int32` and `int64`).
    SameWireGroup,
    Incompatible,
}

fn field_type_verdict(harness: &FieldDescriptor, sdk: &FieldDescriptor) -> TypeVerdict {
    if harness.is_group() != sdk.is_group() {
        return TypeVerdict::Incompatible;
    }
    match (harness.kind(), sdk.kind()) {
        (Kind::Message(ours), Kind::Message(theirs)) if harness.is_map() && sdk.is_map() => {
            let key = kind_verdict(
                &ours.map_entry_key_field().kind(),
                &theirs.map_entry_key_field().kind(),
            );
            let value = kind_verdict(
                &ours.map_entry_value_field().kind(),
                &theirs.map_entry_value_field().kind(),
            );
            key.max(value)
        }
        (ours, theirs) => kind_verdict(&ours, &theirs),
    }
}

fn kind_verdict(harness: &Kind, sdk: &Kind) -> TypeVerdict {
    match (harness, sdk) {
        (Kind::Message(ours), Kind::Message(theirs)) => {
            same_name(ours.full_name(), theirs.full_name())
        }
        (Kind::Enum(ours), Kind::Enum(theirs)) => same_name(ours.full_name(), theirs.full_name()),
        (ours, theirs) => match (scalar_wire_group(ours), scalar_wire_group(theirs)) {
            _ if scalar_name(ours) == scalar_name(theirs) => TypeVerdict::Same,
            (Some(a), Some(b)) if a == b => TypeVerdict::SameWireGroup,
            _ => TypeVerdict::Incompatible,
        },
    }
}

fn same_name(ours: &str, theirs: &str) -> TypeVerdict {
    if ours == theirs {
        TypeVerdict::Same
    } else {
        TypeVerdict::Incompatible
    }
}

fn scalar_name(kind: &Kind) -> &'static str {
    match kind {
        Kind::Double => "double",
        Kind::Float => "float",
        Kind::Int32 => "int32",
        Kind::Int64 => "int64",
        Kind::Uint32 => "uint32",
        Kind::Uint64 => "uint64",
        Kind::Sint32 => "sint32",
        Kind::Sint64 => "sint64",
        Kind::Fixed32 => "fixed32",
        Kind::Fixed64 => "fixed64",
        Kind::Sfixed32 => "sfixed32",
        Kind::Sfixed64 => "sfixed64",
        Kind::Bool => "bool",
        Kind::String => "string",
        Kind::Bytes => "bytes",
        Kind::Message(_) => "message",
        Kind::Enum(_) => "enum",
    }
}

/// buf's wire compatibility groups of scalar types: types of one group decode each other's
/// encoding. `string` and `bytes` each stand alone (see the rules table), as do `double`,
/// `float`, messages and enums (an enum is a varint, but a number outside it is not a value).
fn scalar_wire_group(kind: &Kind) -> Option<u8> {
    match kind {
        Kind::Int32 | Kind::Int64 | Kind::Uint32 | Kind::Uint64 | Kind::Bool => Some(1),
        Kind::Sint32 | Kind::Sint64 => Some(2),
        Kind::Fixed32 | Kind::Sfixed32 => Some(3),
        Kind::Fixed64 | Kind::Sfixed64 => Some(4),
        _ => None,
    }
}
