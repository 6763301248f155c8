//! The go-plugin handshake line: the first line a plugin writes to stdout.
//!
//! Format: `CORE|APP|NETWORK|ADDRESS|PROTOCOL[|CERT]`, for example
//! `1|1|tcp|127.0.0.1:41235|grpc`. The rules are go-plugin's, as the
//! Mattermost server applies them: core protocol 1, app protocol 1 (the only
//! version Mattermost offers), network `tcp` or `unix`, protocol `grpc` (a
//! missing protocol means `netrpc`, which Mattermost does not accept from
//! these plugins).

use std::{
    fmt,
    net::{IpAddr, Ipv4Addr, SocketAddr},
    path::PathBuf,
};

/// go-plugin's core protocol version.
pub const CORE_PROTOCOL_VERSION: u32 = 1;
/// The only app protocol version Mattermost offers (`PLUGIN_PROTOCOL_VERSIONS=1`).
pub const APP_PROTOCOL_VERSION: u32 = 1;

/// A successfully parsed handshake.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Handshake {
    pub core_version: u32,
    pub app_version: u32,
    pub address: PluginAddress,
    pub protocol: String,
    /// The line as the plugin wrote it, without the line ending.
    pub line: String,
}

/// Where the plugin's gRPC server listens.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PluginAddress {
    Tcp(SocketAddr),
    Unix(PathBuf),
}

impl fmt::Display for PluginAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PluginAddress::Tcp(addr) => write!(f, "tcp://{addr}"),
            PluginAddress::Unix(path) => write!(f, "unix://{}", path.display()),
        }
    }
}

/// Why a handshake line was refused. Each variant quotes the line.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HandshakeError {
    #[error(
        "the first line on stdout is not a go-plugin handshake ({reason}): {line:?}\n\
         expected `1|1|tcp|127.0.0.1:PORT|grpc`; stdout is reserved for that line until it is written"
    )]
    Malformed { line: String, reason: String },
    #[error(
        "the handshake speaks go-plugin core protocol {version}, the server only speaks {CORE_PROTOCOL_VERSION}: {line:?}"
    )]
    UnsupportedCoreVersion { line: String, version: u32 },
    #[error(
        "the handshake asks for app protocol version {version}, the server only offers {APP_PROTOCOL_VERSION} \
         (PLUGIN_PROTOCOL_VERSIONS=1): {line:?}"
    )]
    UnsupportedAppVersion { line: String, version: u32 },
    #[error("the handshake names network {network:?}, expected `tcp` or `unix`: {line:?}")]
    UnknownNetwork { line: String, network: String },
    #[error("the handshake address {address:?} is not {expected}: {line:?}")]
    BadAddress {
        line: String,
        address: String,
        expected: &'static str,
    },
    #[error(
        "the plugin speaks go-plugin's net/rpc protocol (a Go net/rpc plugin), not gRPC: {line:?}\n\
         this harness, like the Mattermost server for these plugins, only accepts `grpc`"
    )]
    NetRpc { line: String },
    #[error("the handshake names protocol {protocol:?}, expected `grpc`: {line:?}")]
    UnknownProtocol { line: String, protocol: String },
}

/// Parses one handshake line (trailing whitespace and line ending allowed).
pub fn parse(raw: &str) -> Result<Handshake, HandshakeError> {
    let line = raw.trim().to_owned();
    let parts: Vec<&str> = line.splitn(6, '|').collect();
    if parts.len() < 4 {
        return Err(HandshakeError::Malformed {
            reason: format!("{} `|`-separated fields, at least 4 needed", parts.len()),
            line,
        });
    }
    let number = |field: &str, what: &str| {
        field.parse::<u32>().map_err(|_| HandshakeError::Malformed {
            reason: format!("{what} {field:?} is not a number"),
            line: line.clone(),
        })
    };
    let core_version = number(parts[0], "core protocol version")?;
    if core_version != CORE_PROTOCOL_VERSION {
        return Err(HandshakeError::UnsupportedCoreVersion {
            line,
            version: core_version,
        });
    }
    let app_version = number(parts[1], "app protocol version")?;
    if app_version != APP_PROTOCOL_VERSION {
        return Err(HandshakeError::UnsupportedAppVersion {
            line,
            version: app_version,
        });
    }
    let address = match parts[2] {
        "tcp" => PluginAddress::Tcp(parse_loopback(parts[3]).ok_or_else(|| {
            HandshakeError::BadAddress {
                line: line.clone(),
                address: parts[3].to_owned(),
                expected: "a loopback `IP:PORT` (the harness dials nothing else)",
            }
        })?),
        "unix" if !parts[3].is_empty() => PluginAddress::Unix(PathBuf::from(parts[3])),
        "unix" => {
            return Err(HandshakeError::BadAddress {
                line: line.clone(),
                address: String::new(),
                expected: "a socket path",
            });
        }
        other => {
            return Err(HandshakeError::UnknownNetwork {
                network: other.to_owned(),
                line,
            });
        }
    };
    // go-plugin treats a missing protocol field as net/rpc.
    let protocol = parts.get(4).copied().unwrap_or("netrpc");
    match protocol {
        "grpc" => {}
        "netrpc" => return Err(HandshakeError::NetRpc { line }),
        other => {
            return Err(HandshakeError::UnknownProtocol {
                protocol: other.to_owned(),
                line,
            });
        }
    }
    Ok(Handshake {
        core_version,
        app_version,
        address,
        protocol: protocol.to_owned(),
        line,
    })
}

fn parse_loopback(address: &str) -> Option<SocketAddr> {
    let addr = match address.parse::<SocketAddr>() {
        Ok(addr) => addr,
        Err(_) => {
            let port = address.strip_prefix("localhost:")?.parse().ok()?;
            SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), port)
        }
    };
    (addr.ip().is_loopback() && addr.port() != 0).then_some(addr)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_what_the_python_sdk_prints() {
        let handshake = parse("1|1|tcp|127.0.0.1:41235|grpc\n").unwrap();
        assert_eq!(
            handshake.address,
            PluginAddress::Tcp("127.0.0.1:41235".parse().unwrap())
        );
        assert_eq!(handshake.protocol, "grpc");
        assert_eq!(handshake.line, "1|1|tcp|127.0.0.1:41235|grpc");
    }

    #[test]
    fn accepts_ipv6_localhost_unix_and_a_trailing_certificate() {
        assert!(matches!(
            parse("1|1|tcp|[::1]:5000|grpc").unwrap().address,
            PluginAddress::Tcp(addr) if addr.is_ipv6()
        ));
        assert!(matches!(
            parse("1|1|tcp|localhost:5000|grpc").unwrap().address,
            PluginAddress::Tcp(addr) if addr.port() == 5000
        ));
        assert_eq!(
            parse("1|1|unix|/tmp/plugin.sock|grpc").unwrap().address,
            PluginAddress::Unix("/tmp/plugin.sock".into())
        );
        assert!(parse("1|1|tcp|127.0.0.1:5000|grpc|MIIBcert").is_ok());
    }

    #[test]
    fn refuses_text_that_is_not_a_handshake_and_quotes_it() {
        let err = parse("hello").unwrap_err();
        assert!(matches!(&err, HandshakeError::Malformed { line, .. } if line == "hello"));
        assert!(err.to_string().contains("\"hello\""));
        assert!(matches!(
            parse("x|1|tcp|127.0.0.1:1|grpc"),
            Err(HandshakeError::Malformed { .. })
        ));
    }

    #[test]
    fn refuses_netrpc_explicit_or_implied() {
        assert!(matches!(
            parse("1|1|tcp|127.0.0.1:1234|netrpc"),
            Err(HandshakeError::NetRpc { .. })
        ));
        assert!(matches!(
            parse("1|1|tcp|127.0.0.1:1234"),
            Err(HandshakeError::NetRpc { .. })
        ));
        assert!(
            parse("1|1|tcp|127.0.0.1:1234")
                .unwrap_err()
                .to_string()
                .contains("net/rpc")
        );
    }

    #[test]
    fn refuses_other_versions_networks_protocols_and_addresses() {
        assert_eq!(
            parse("2|1|tcp|127.0.0.1:1|grpc"),
            Err(HandshakeError::UnsupportedCoreVersion {
                line: "2|1|tcp|127.0.0.1:1|grpc".into(),
                version: 2
            })
        );
        assert!(matches!(
            parse("1|2|tcp|127.0.0.1:1|grpc"),
            Err(HandshakeError::UnsupportedAppVersion { version: 2, .. })
        ));
        assert!(matches!(
            parse("1|1|udp|127.0.0.1:1|grpc"),
            Err(HandshakeError::UnknownNetwork { .. })
        ));
        assert!(matches!(
            parse("1|1|tcp|127.0.0.1:1|http"),
            Err(HandshakeError::UnknownProtocol { .. })
        ));
        for address in ["10.0.0.1:80", "example.com:80", "127.0.0.1", "127.0.0.1:0"] {
            assert!(
                matches!(
                    parse(&format!("1|1|tcp|{address}|grpc")),
                    Err(HandshakeError::BadAddress { .. })
                ),
                "{address}"
            );
        }
    }
}
