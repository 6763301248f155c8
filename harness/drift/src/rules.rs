//! The rules a difference is classified by, modelled on `buf breaking`'s WIRE category.
//!
//! buf judges an old schema against a new one; here two live peers are compared (the harness,
//! playing the server, and an SDK), and messages flow both ways between them, so every rule
//! must hold in both directions. Where that or the peer setting makes a rule differ from buf's,
//! the table says so.
//!
//! | rule | what differs | class | buf |
//! |---|---|---|---|
//! | `SERVICE_NO_DELETE` | a service only the harness has | wire-incompatible | FILE only; here every call to it fails with UNIMPLEMENTED |
//! | `RPC_NO_DELETE` | a method only the harness has | wire-incompatible | FILE/PACKAGE only; same reason |
//! | `RPC_SAME_REQUEST_TYPE` | a method's input message | wire-incompatible | WIRE |
//! | `RPC_SAME_RESPONSE_TYPE` | a method's output message | wire-incompatible | WIRE |
//! | `RPC_SAME_CLIENT_STREAMING` | whether the client streams | wire-incompatible | WIRE |
//! | `RPC_SAME_SERVER_STREAMING` | whether the server streams | wire-incompatible | WIRE |
//! | `FIELD_SAME_NUMBER` | one field name under two numbers | wire-incompatible | buf pairs fields by number and sees a deletion (FIELD_NO_DELETE_UNLESS_NUMBER_RESERVED, WIRE) plus an addition; each side drops what the other writes |
//! | `FIELD_WIRE_COMPATIBLE_TYPE` | one number, types in different wire groups, or different message/enum types; covers a number reused by another field | wire-incompatible | WIRE; `string`/`bytes` counts as incompatible both ways, since both peers receive (buf allows string to bytes) |
//! | `FIELD_WIRE_COMPATIBLE_CARDINALITY` | one number, repeated or map on one side, singular on the other; or required against optional | wire-incompatible | WIRE |
//! | `FIELD_SAME_ONEOF` | one number, inside a oneof on one side and outside (or in another oneof) on the other; proto3 `optional`'s synthetic oneofs are ignored | wire-incompatible | WIRE |
//! | `ENUM_VALUE_SAME_NUMBER` | one enum value name under two numbers | wire-incompatible | like FIELD_SAME_NUMBER (ENUM_VALUE_NO_DELETE_UNLESS_NUMBER_RESERVED, WIRE) |
//! | `FIELD_SAME_TYPE` | one number, different types of one wire group (`int32`/`int64`/`uint32`/`uint64`/`bool`; `sint32`/`sint64`; `fixed32`/`sfixed32`; `fixed64`/`sfixed64`) | compatible on the wire, but values may be truncated or reinterpreted | FILE/PACKAGE only |
//! | `FIELD_SAME_CARDINALITY` | one number, explicit presence (`optional`) on one side only | compatible on the wire, but only one side can tell unset from default | FILE/PACKAGE only |
//! | `FIELD_SAME_NAME` | one number and type, two names | compatible on the wire, but the JSON mapping differs | WIRE_JSON only |
//! | `ENUM_VALUE_SAME_NAME` | one enum number, two names | compatible on the wire, but the JSON mapping differs | WIRE_JSON only |
//! | `FIELD_NO_DELETE` | a field only the harness has, its number unused by the SDK | compatible on the wire (the SDK skips it as unknown), but the SDK never sees its value; buf's WIRE flags it unless the SDK reserves the number | FIELD_NO_DELETE_UNLESS_NUMBER_RESERVED, WIRE |
//! | `ENUM_VALUE_NO_DELETE` | an enum value only the harness has | compatible on the wire, but the SDK reads it as an unknown number; buf's WIRE flags it unless the number is reserved | ENUM_VALUE_NO_DELETE_UNLESS_NUMBER_RESERVED, WIRE |
//! | `MESSAGE_NO_DELETE` | a message only the harness has | compatible on the wire: nothing the SDK speaks refers to it (a reference would be a type difference) | FILE only |
//! | `ENUM_NO_DELETE` | an enum only the harness has | compatible on the wire, as above | FILE only |
//! | `SERVICE_ADDED`, `RPC_ADDED`, `MESSAGE_ADDED`, `ENUM_ADDED`, `FIELD_ADDED`, `ENUM_VALUE_ADDED` | something only the SDK has | compatible: the harness ignores what it does not know | never breaking |

use std::fmt;

/// Whether a difference breaks the wire protocol between the two sides.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Compatibility {
    WireIncompatible,
    Compatible,
}

impl fmt::Display for Compatibility {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Compatibility::WireIncompatible => "wire-incompatible",
            Compatibility::Compatible => "compatible",
        })
    }
}

/// One row of the table in the module docs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rule {
    ServiceNoDelete,
    RpcNoDelete,
    RpcSameRequestType,
    RpcSameResponseType,
    RpcSameClientStreaming,
    RpcSameServerStreaming,
    FieldSameNumber,
    FieldWireCompatibleType,
    FieldWireCompatibleCardinality,
    FieldSameOneof,
    EnumValueSameNumber,
    FieldSameType,
    FieldSameCardinality,
    FieldSameName,
    EnumValueSameName,
    FieldNoDelete,
    EnumValueNoDelete,
    MessageNoDelete,
    EnumNoDelete,
    ServiceAdded,
    RpcAdded,
    MessageAdded,
    EnumAdded,
    FieldAdded,
    EnumValueAdded,
}

impl Rule {
    pub fn compatibility(self) -> Compatibility {
        use Rule::*;
        match self {
            ServiceNoDelete
            | RpcNoDelete
            | RpcSameRequestType
            | RpcSameResponseType
            | RpcSameClientStreaming
            | RpcSameServerStreaming
            | FieldSameNumber
            | FieldWireCompatibleType
            | FieldWireCompatibleCardinality
            | FieldSameOneof
            | EnumValueSameNumber => Compatibility::WireIncompatible,
            FieldSameType | FieldSameCardinality | FieldSameName | EnumValueSameName
            | FieldNoDelete | EnumValueNoDelete | MessageNoDelete | EnumNoDelete | ServiceAdded
            | RpcAdded | MessageAdded | EnumAdded | FieldAdded | EnumValueAdded => {
                Compatibility::Compatible
            }
        }
    }

    /// The rule's name, as in the table.
    pub fn id(self) -> &'static str {
        use Rule::*;
        match self {
            ServiceNoDelete => "SERVICE_NO_DELETE",
            RpcNoDelete => "RPC_NO_DELETE",
            RpcSameRequestType => "RPC_SAME_REQUEST_TYPE",
            RpcSameResponseType => "RPC_SAME_RESPONSE_TYPE",
            RpcSameClientStreaming => "RPC_SAME_CLIENT_STREAMING",
            RpcSameServerStreaming => "RPC_SAME_SERVER_STREAMING",
            FieldSameNumber => "FIELD_SAME_NUMBER",
            FieldWireCompatibleType => "FIELD_WIRE_COMPATIBLE_TYPE",
            FieldWireCompatibleCardinality => "FIELD_WIRE_COMPATIBLE_CARDINALITY",
            FieldSameOneof => "FIELD_SAME_ONEOF",
            EnumValueSameNumber => "ENUM_VALUE_SAME_NUMBER",
            FieldSameType => "FIELD_SAME_TYPE",
            FieldSameCardinality => "FIELD_SAME_CARDINALITY",
            FieldSameName => "FIELD_SAME_NAME",
            EnumValueSameName => "ENUM_VALUE_SAME_NAME",
            FieldNoDelete => "FIELD_NO_DELETE",
            EnumValueNoDelete => "ENUM_VALUE_NO_DELETE",
            MessageNoDelete => "MESSAGE_NO_DELETE",
            EnumNoDelete => "ENUM_NO_DELETE",
            ServiceAdded => "SERVICE_ADDED",
            RpcAdded => "RPC_ADDED",
            MessageAdded => "MESSAGE_ADDED",
            EnumAdded => "ENUM_ADDED",
            FieldAdded => "FIELD_ADDED",
            EnumValueAdded => "ENUM_VALUE_ADDED",
        }
    }

    /// What the difference means for the two peers, in a phrase.
    pub fn consequence(self) -> &'static str {
        use Rule::*;
        match self {
            ServiceNoDelete => "every call to it fails with UNIMPLEMENTED",
            RpcNoDelete => "calls to it fail with UNIMPLEMENTED",
            RpcSameRequestType => "the request is decoded as another message",
            RpcSameResponseType => "the response is decoded as another message",
            RpcSameClientStreaming | RpcSameServerStreaming => {
                "the two sides frame the call differently"
            }
            FieldSameNumber => "each side drops what the other writes under its number",
            FieldWireCompatibleType => "the value does not decode as the other side's type",
            FieldWireCompatibleCardinality => "repeated and singular values decode differently",
            FieldSameOneof => "setting it clears different fields on each side",
            EnumValueSameNumber => "the value arrives as another number",
            FieldSameType => "compatible on the wire, but values may be truncated",
            FieldSameCardinality => "compatible on the wire, but only one side tracks presence",
            FieldSameName | EnumValueSameName => {
                "compatible on the wire, but the JSON names differ"
            }
            FieldNoDelete => "compatible on the wire, but the SDK never sees this value",
            EnumValueNoDelete => {
                "compatible on the wire, but the SDK reads it as an unknown number"
            }
            MessageNoDelete | EnumNoDelete => {
                "compatible on the wire, but the SDK does not define it"
            }
            ServiceAdded | RpcAdded | MessageAdded | EnumAdded | FieldAdded | EnumValueAdded => {
                "compatible: only the SDK has it"
            }
        }
    }
}

impl serde::Serialize for Rule {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.id())
    }
}

impl fmt::Display for Rule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.id())
    }
}
