//! Which PluginAPI methods the world answers, and with what.
//!
//! A handler is an ordinary function from a typed request to a typed
//! response. The method it serves is read off the request type's name
//! (`GetUserRequest` serves `GetUser`) and checked against the protocol's
//! descriptor when the registry is built, so a handler can never be wired to
//! the wrong RPC or the wrong response type.

use std::collections::HashMap;

use bytes::Bytes;
use prost::{Message, Name};

use super::{errors::ApiError, world::World};

pub type HandlerResult<T> = Result<T, ApiError>;

type Handler = Box<dyn Fn(&mut World, Bytes) -> Result<Bytes, HandlerError> + Send + Sync>;

pub enum HandlerError {
    Api(ApiError),
    Decode(prost::DecodeError),
}

#[derive(Default)]
pub struct Registry {
    handlers: HashMap<&'static str, Handler>,
}

impl Registry {
    /// Registers `handler` for the method its request type belongs to.
    ///
    /// Panics when the types do not match the protocol: that is a bug in
    /// the harness, caught by its tests, never a consequence of input.
    pub fn add<Req, Resp>(&mut self, handler: fn(&mut World, Req) -> HandlerResult<Resp>)
    where
        Req: Message + Name + Default + 'static,
        Resp: Message + Name + 'static,
    {
        let method = Req::NAME
            .strip_suffix("Request")
            .unwrap_or_else(|| panic!("{} is not a request message", Req::NAME));
        let descriptor = mm_plugin_proto::api_service()
            .methods()
            .find(|m| m.name() == method)
            .unwrap_or_else(|| panic!("PluginAPI has no method {method}"));
        assert_eq!(descriptor.input().full_name(), Req::full_name());
        assert_eq!(descriptor.output().full_name(), Resp::full_name());
        let previous = self.handlers.insert(
            method,
            Box::new(move |world, body| {
                let request = Req::decode(body).map_err(HandlerError::Decode)?;
                let response = handler(world, request).map_err(HandlerError::Api)?;
                Ok(response.encode_to_vec().into())
            }),
        );
        assert!(previous.is_none(), "{method} registered twice");
    }

    pub fn get(&self, method: &str) -> Option<&Handler> {
        self.handlers.get(method)
    }

    /// Names of the modelled methods, sorted.
    pub fn methods(&self) -> Vec<&'static str> {
        let mut names: Vec<_> = self.handlers.keys().copied().collect();
        names.sort_unstable();
        names
    }
}
