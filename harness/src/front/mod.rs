//! The HTTP front door: real HTTP/1.1 on a loopback address, forwarded to
//! the plugin's ServeHTTP the way the Mattermost server forwards
//! `/plugins/{id}/…`, with the answer streamed back and flushes honoured.
//! Anything outside the plugin's routes gets the server's own 404.

mod gourl;
mod log;
mod relay;
mod translate;

use std::{
    convert::Infallible,
    net::{Ipv4Addr, SocketAddr},
    sync::Arc,
    time::{Duration, Instant},
};

use http::{Request, Response, StatusCode};
use hyper::{body::Incoming, server::conn::http1, service::service_fn};
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::{
    net::{TcpListener, TcpStream},
    task::{JoinHandle, JoinSet},
};
use tokio_util::sync::CancellationToken;
use tonic::transport::Channel;

pub use log::{RequestLog, RequestLogger};

use crate::hooks::http::{Ending, ExchangeOptions, HttpExchange, ServeHttpClient};
use relay::{Relay, ResponseBody};
use translate::Route;

/// How long open connections get to finish once the door closes.
const CLOSE_WAIT: Duration = Duration::from_secs(2);

#[derive(Debug, thiserror::Error)]
pub enum FrontDoorError {
    #[error("invalid listen address {0:?}: expected HOST:PORT, e.g. 127.0.0.1:8065")]
    Invalid(String),
    #[error(
        "refusing to listen on {0}: the front door has no authentication, so it only listens \
         on loopback addresses (127.0.0.0/8, [::1], localhost)"
    )]
    NotLoopback(SocketAddr),
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        addr: SocketAddr,
        source: std::io::Error,
    },
}

/// Parses `HOST:PORT` (`localhost` allowed), refusing any address that is
/// not loopback.
pub fn parse_listen(text: &str) -> Result<SocketAddr, FrontDoorError> {
    let invalid = || FrontDoorError::Invalid(text.to_owned());
    let addr = match text.parse::<SocketAddr>() {
        Ok(addr) => addr,
        Err(_) => match text.rsplit_once(':') {
            Some(("localhost", port)) => {
                SocketAddr::from((Ipv4Addr::LOCALHOST, port.parse().map_err(|_| invalid())?))
            }
            _ => return Err(invalid()),
        },
    };
    if !addr.ip().is_loopback() {
        return Err(FrontDoorError::NotLoopback(addr));
    }
    Ok(addr)
}

/// What the door serves.
#[derive(Debug, Clone)]
pub struct FrontDoorConfig {
    /// The plugin's id: its routes are `/plugins/{id}` and below.
    pub plugin_id: String,
    /// Whether the plugin listed ServeHTTP in `Implemented()`; if not, the
    /// server answers 404 without calling it.
    pub serve_http: bool,
    /// A limit on each request. Upstream has none (`None`).
    pub request_timeout: Option<Duration>,
}

/// A running front door.
pub struct FrontDoor {
    addr: SocketAddr,
    shutdown: CancellationToken,
    task: JoinHandle<()>,
}

/// What every request handler shares.
struct Door {
    client: ServeHttpClient,
    config: FrontDoorConfig,
    log: RequestLogger,
    shutdown: CancellationToken,
}

impl FrontDoor {
    /// Binds `addr`, which must be loopback.
    pub async fn bind(addr: SocketAddr) -> Result<TcpListener, FrontDoorError> {
        if !addr.ip().is_loopback() {
            return Err(FrontDoorError::NotLoopback(addr));
        }
        TcpListener::bind(addr)
            .await
            .map_err(|source| FrontDoorError::Bind { addr, source })
    }

    /// Serves on `listener`, forwarding to the plugin behind `channel`;
    /// each finished request is passed to `log`.
    pub fn start(
        listener: TcpListener,
        channel: Channel,
        config: FrontDoorConfig,
        log: RequestLogger,
    ) -> std::io::Result<FrontDoor> {
        let addr = listener.local_addr()?;
        let shutdown = CancellationToken::new();
        let door = Arc::new(Door {
            client: ServeHttpClient::new(channel),
            config,
            log,
            shutdown: shutdown.clone(),
        });
        let task = tokio::spawn(accept(listener, door));
        Ok(FrontDoor {
            addr,
            shutdown,
            task,
        })
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Stops accepting, cancels the exchanges in flight (as clients going
    /// away would) and gives open connections a moment to close.
    pub async fn stop(mut self) {
        self.shutdown.cancel();
        if tokio::time::timeout(CLOSE_WAIT * 2, &mut self.task)
            .await
            .is_err()
        {
            self.task.abort();
        }
    }
}

impl Drop for FrontDoor {
    fn drop(&mut self) {
        self.shutdown.cancel();
    }
}

async fn accept(listener: TcpListener, door: Arc<Door>) {
    let mut connections = JoinSet::new();
    loop {
        tokio::select! {
            _ = door.shutdown.cancelled() => break,
            accepted = listener.accept() => match accepted {
                Ok((stream, peer)) => {
                    connections.spawn(serve_connection(stream, peer, door.clone()));
                }
                // Out of descriptors, usually: back off instead of spinning.
                Err(_) => tokio::time::sleep(Duration::from_millis(50)).await,
            },
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
        }
    }
    drop(listener);
    let _ = tokio::time::timeout(CLOSE_WAIT, async {
        while connections.join_next().await.is_some() {}
    })
    .await;
    // Dropping the set aborts whatever connection is still open.
}

async fn serve_connection(stream: TcpStream, peer: SocketAddr, door: Arc<Door>) {
    let _ = stream.set_nodelay(true);
    let shutdown = door.shutdown.clone();
    let service = service_fn(move |request| {
        let door = door.clone();
        async move { Ok::<_, Infallible>(handle(request, peer, door).await) }
    });
    let connection = http1::Builder::new()
        .timer(TokioTimer::new())
        // Go writes canonical header names; hyper would lowercase them.
        .title_case_headers(true)
        .serve_connection(TokioIo::new(stream), service);
    tokio::pin!(connection);
    tokio::select! {
        _ = connection.as_mut() => {}
        _ = shutdown.cancelled() => {
            connection.as_mut().graceful_shutdown();
            let _ = connection.await;
        }
    }
}

async fn handle(
    request: Request<Incoming>,
    peer: SocketAddr,
    door: Arc<Door>,
) -> Response<ResponseBody> {
    let started = Instant::now();
    let (parts, body) = request.into_parts();
    let mut line = RequestLog {
        method: parts.method.to_string(),
        // The path only: a query may carry an access token.
        path: parts.uri.path().to_owned(),
        status: None,
        bytes: 0,
        latency: Duration::ZERO,
        note: None,
    };
    let refuse = |mut line: RequestLog, status: StatusCode, text: &str, note: &str| {
        line.status = Some(status.as_u16());
        line.bytes = text.len() as u64 + 1;
        line.latency = started.elapsed();
        line.note = Some(note.to_owned());
        (door.log)(&line);
        relay::plain(status, text)
    };
    let path = match translate::route(parts.uri.path(), &door.config.plugin_id) {
        Route::Plugin { path } => path,
        Route::NotFound => {
            let note = "not a route of this plugin";
            return refuse(line, StatusCode::NOT_FOUND, "404 page not found", note);
        }
        Route::BadRequest => {
            let note = "malformed escape in the path";
            return refuse(line, StatusCode::BAD_REQUEST, "400 Bad Request", note);
        }
    };
    if !door.config.serve_http {
        let note = "the plugin does not implement ServeHTTP";
        return refuse(line, StatusCode::NOT_FOUND, "404 page not found", note);
    }

    let request = translate::plugin_request(&parts, &path, body, peer);
    // Cancelled when hyper drops the handler or the response body: the
    // client is gone, which ends the call as upstream's request context does.
    let token = door.shutdown.child_token();
    let guard = token.clone().drop_guard();
    let options = ExchangeOptions {
        deadline: door.config.request_timeout,
        cancel_after: None,
        keep_body: false,
        trailer_wait: Duration::ZERO,
        cancel: Some(token),
    };
    let (relay, response_start) = Relay::new();
    let (client, log) = (door.client.clone(), door.log.clone());
    tokio::spawn(async move {
        let mut relay = relay;
        let exchange = client.serve(request, &options, &mut relay).await;
        let bytes = relay.finish().await;
        line.status = exchange.status;
        line.bytes = bytes;
        line.note = note_for(&exchange);
        if exchange.status.is_none() {
            line.status = Some(StatusCode::GATEWAY_TIMEOUT.as_u16());
            line.bytes = TIMED_OUT.len() as u64 + 1;
        }
        line.latency = started.elapsed();
        log(&line);
    });
    match response_start.await {
        Ok(start) => relay::response(start, guard),
        // The exchange ended before anything was written: the harness's
        // own request timeout (or shutdown), which upstream does not have.
        Err(_) => relay::plain(StatusCode::GATEWAY_TIMEOUT, TIMED_OUT),
    }
}

const TIMED_OUT: &str = "Gateway Timeout";

/// What the log line adds when the answer is not simply the plugin's.
fn note_for(exchange: &HttpExchange) -> Option<String> {
    let mut notes = Vec::new();
    if let Some(answer) = &exchange.server_answer {
        notes.push(format!("the server answered itself: {}", answer.reason));
    }
    if let Some(interim) = exchange.interim_status {
        notes.push(format!(
            "the plugin's {interim} is an interim response, not forwarded"
        ));
    }
    if let Some(error) = &exchange.error_after_headers {
        notes.push(format!("the stream failed after the headers: {error}"));
    }
    let unsendable = relay::unsendable(&exchange.headers);
    if !unsendable.is_empty() {
        notes.push(format!(
            "headers not sendable over HTTP/1.1: {}",
            unsendable.join(", ")
        ));
    }
    match exchange.ending {
        Ending::Cancelled => {
            notes.push("cancelled: the client went away or the harness stopped".to_owned())
        }
        Ending::ClientGone => notes.push("the client went away".to_owned()),
        Ending::DeadlineExceeded => notes.push("the request timeout passed".to_owned()),
        _ => {}
    }
    (!notes.is_empty()).then(|| notes.join("; "))
}
