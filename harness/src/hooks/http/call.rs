//! One ServeHTTP call: the sender and the receiver side by side, the
//! server's rules applied to what comes back, and every way a call ends.

use std::{
    future::{Future, pending},
    pin::Pin,
    sync::Arc,
    task::Poll,
    time::{Duration, Instant},
};

use bytes::Bytes;
use mm_plugin_proto::pb::{self, plugin_hooks_client::PluginHooksClient};
use tokio::{sync::mpsc, task::JoinHandle};
use tokio_stream::{StreamExt, wrappers::ReceiverStream};
use tokio_util::sync::CancellationToken;
use tonic::{Code, codec::Streaming, transport::Channel};

use super::{
    ExchangeOptions, HttpRequest, ResponseSink,
    body::Chunker,
    exchange::{Ending, GrpcOutcome, HttpExchange},
    rules::{self, ResponseHead, ServerAnswer},
    send::{self, Progress, SendEnd},
};

/// grpc-go's default limit on a received message, which upstream keeps.
const MAX_RECEIVED_MESSAGE: usize = 4 * 1024 * 1024;
/// How long a call cancelled before the plugin's headers waits for the
/// transport's reset to drop the outbound stream. The reset takes
/// microseconds when it happens; it does not when the headers came in
/// meanwhile, and then the stream is ended and dropped instead.
const RESET_WAIT: Duration = Duration::from_millis(100);

type Outbound = mpsc::Sender<pb::ServeHttpRequest>;
type Responses = Streaming<pb::ServeHttpResponse>;

pub(super) async fn run<S: ResponseSink>(
    channel: &Channel,
    request: HttpRequest,
    options: &ExchangeOptions,
    sink: &mut S,
) -> HttpExchange {
    let started = Instant::now();
    let mut call = Call {
        exchange: HttpExchange::new(&request.method, &request.url),
        progress: Progress::new(started),
        sink,
        options,
        started,
        deadline: options
            .deadline
            .map(|deadline| tokio::time::Instant::now() + deadline),
        sender: None,
        outbound: None,
        head_written: false,
    };
    let ending = call.drive(channel, request).await;
    call.finish(ending)
}

struct Call<'a, S> {
    exchange: HttpExchange,
    progress: Arc<Progress>,
    sink: &'a mut S,
    options: &'a ExchangeOptions,
    started: Instant,
    deadline: Option<tokio::time::Instant>,
    sender: Option<JoinHandle<SendEnd>>,
    /// The outbound channel, without keeping it open.
    outbound: Option<mpsc::WeakSender<pb::ServeHttpRequest>>,
    head_written: bool,
}

/// What to do after a response message.
enum Flow {
    Continue,
    Complete,
    Stop(Ending),
}

impl<S: ResponseSink> Call<'_, S> {
    async fn drive(&mut self, channel: &Channel, request: HttpRequest) -> Ending {
        let (init, body) = request.into_wire();
        self.exchange.request.content_length = init.content_length;
        let (tx, rx) = mpsc::channel(1);
        self.outbound = Some(tx.downgrade());
        let progress = self.progress.clone();
        let outbound = ReceiverStream::new(rx).map(move |message| {
            progress.taken(&message);
            message
        });
        let mut client = PluginHooksClient::new(channel.clone())
            .max_decoding_message_size(MAX_RECEIVED_MESSAGE)
            .max_encoding_message_size(usize::MAX);
        // No grpc-timeout: upstream's call lives as long as the HTTP request.
        let open = Box::pin(client.serve_http(outbound));
        self.sender = Some(tokio::spawn(send::send(
            tx,
            init,
            Chunker::new(body),
            self.options.cancel_after,
        )));

        let mut stream = match self.wait_for_headers(open).await {
            Ok(stream) => stream,
            Err(ending) => return ending,
        };
        match self.read_response(&mut stream).await {
            Ok(ending) => self.wind_down(stream, ending).await,
            Err((ending, cancelled)) => {
                // The call goes first: with both halves gone, the end of the
                // outbound stream is followed by a reset (CANCEL).
                drop(stream);
                drop(cancelled);
                self.stop_sender();
                ending
            }
        }
    }

    /// Until the plugin's response headers: the call opens while the
    /// request is already being sent.
    async fn wait_for_headers<F>(&mut self, mut open: Pin<Box<F>>) -> Result<Responses, Ending>
    where
        F: Future<Output = Result<tonic::Response<Responses>, tonic::Status>>,
    {
        let opened = loop {
            tokio::select! {
                biased;
                stop = interrupted(self.deadline, self.options.cancel.as_ref()) => {
                    self.reset_before_headers(open, None).await;
                    return Err(stop);
                }
                end = wait_sender(&mut self.sender) => {
                    if let Some(tx) = self.note_send_end(end) {
                        self.reset_before_headers(open, Some(tx)).await;
                        return Err(Ending::Cancelled);
                    }
                }
                opened = &mut open => break opened,
            }
        };
        match opened {
            Ok(response) => Ok(response.into_inner()),
            Err(status) => {
                let status = self.as_grpc_go_reports(status);
                Err(self.failed_before_response(&status).await)
            }
        }
    }

    /// The response messages up to `body_complete` or the end of the call.
    /// `Ok` is a response the server relays in full; `Err` an exchange cut
    /// short, with the sending half when the harness cancelled it.
    async fn read_response(
        &mut self,
        stream: &mut Responses,
    ) -> Result<Ending, (Ending, Option<Outbound>)> {
        loop {
            tokio::select! {
                biased;
                stop = interrupted(self.deadline, self.options.cancel.as_ref()) => {
                    return Err((stop, None));
                }
                end = wait_sender(&mut self.sender) => {
                    if let Some(tx) = self.note_send_end(end) {
                        return Err((Ending::Cancelled, Some(tx)));
                    }
                }
                message = stream.message() => match message.map_err(|status| self.as_grpc_go_reports(status)) {
                    Ok(Some(message)) => match self.on_message(message).await {
                        Flow::Continue => {}
                        Flow::Complete => return Ok(Ending::BodyComplete),
                        Flow::Stop(ending) => return Err((ending, None)),
                    },
                    Ok(None) if !self.head_written => {
                        self.exchange.grpc_status = Some(GrpcOutcome::ok());
                        let reason = "the plugin ended ServeHTTP without a response message";
                        let answer = ServerAnswer::bad_gateway(reason.to_owned());
                        return Err((self.answer_instead(answer, Ending::NoResponse).await, None));
                    }
                    Ok(None) => {
                        self.exchange.grpc_status = Some(GrpcOutcome::ok());
                        return Ok(Ending::StreamEnded);
                    }
                    Err(status) if !self.head_written => {
                        return Err((self.failed_before_response(&status).await, None));
                    }
                    Err(status) => {
                        self.exchange.grpc_status = Some(GrpcOutcome::from_status(&status));
                        self.exchange.error_after_headers = Some(crate::wire::status_text(&status));
                        return Err((Ending::StreamError, None));
                    }
                },
            }
        }
    }

    /// Statuses are reported as the server's grpc-go client names them.
    fn as_grpc_go_reports(&self, status: tonic::Status) -> tonic::Status {
        let deadline = self
            .options
            .deadline
            .unwrap_or(crate::hooks::DEFAULT_DEADLINE);
        crate::hooks::as_grpc_go_reports(status, deadline)
    }

    /// After the response: upstream stops reading and waits for its sender
    /// before the HTTP response ends. The harness also reads on for a
    /// moment to learn how the call ends; only the report uses that.
    async fn wind_down(&mut self, mut stream: Responses, ending: Ending) -> Ending {
        let trailer_wait = match ending {
            Ending::BodyComplete => self.options.trailer_wait,
            _ => Duration::ZERO,
        };
        let sender = &mut self.sender;
        let both =
            async { tokio::join!(finish_sender(sender), read_rest(&mut stream, trailer_wait)) };
        tokio::select! {
            biased;
            stop = interrupted(self.deadline, self.options.cancel.as_ref()) => {
                drop(stream);
                self.stop_sender();
                stop
            }
            (end, (after_complete, outcome)) = both => {
                if let Some(end) = end {
                    // A `cancel_after` reached after the response was complete
                    // simply ends the request stream.
                    drop(self.note_send_end(end));
                }
                self.exchange.response.after_complete = after_complete;
                if outcome.is_some() {
                    self.exchange.grpc_status = outcome;
                }
                ending
            }
        }
    }

    /// Reads one response message as upstream's `receiveHTTPResponse` does.
    async fn on_message(&mut self, message: pb::ServeHttpResponse) -> Flow {
        let response = &mut self.exchange.response;
        let index = response.messages;
        response.messages += 1;
        response.chunk_sizes.push(message.body_chunk.len());
        if message.flush {
            response.flushes.push(index);
        }
        if index == 0 {
            self.exchange.timing.first_response = Some(self.started.elapsed());
            self.exchange.early_response = self.progress.complete_at().is_none();
            self.exchange.plugin_status = message.init.as_ref().map(|init| init.status_code);
            match rules::head_for(message.init.as_ref()) {
                Ok(head) => {
                    if self.write_head(&head).await.is_err() {
                        return Flow::Stop(Ending::ClientGone);
                    }
                    self.exchange.interim_status = head.interim;
                }
                Err(answer) => {
                    return Flow::Stop(self.answer_instead(answer, Ending::InvalidStatus).await);
                }
            }
        } else if message.init.is_some() {
            self.exchange.response.repeated_inits += 1;
        }
        if (!message.body_chunk.is_empty() || message.flush)
            && self
                .write_body(message.body_chunk.into(), message.flush)
                .await
                .is_err()
        {
            return Flow::Stop(Ending::ClientGone);
        }
        if message.body_complete {
            self.exchange.response.body_complete = true;
            return Flow::Complete;
        }
        Flow::Continue
    }

    async fn write_head(&mut self, head: &ResponseHead) -> Result<(), super::ClientGone> {
        self.exchange.status = Some(head.status);
        self.exchange.headers = head.headers.clone();
        self.head_written = true;
        self.sink.head(head).await
    }

    async fn write_body(&mut self, chunk: Bytes, flush: bool) -> Result<(), super::ClientGone> {
        self.exchange.body_len += chunk.len() as u64;
        self.exchange.body_digest.update(&chunk);
        self.sink.body(chunk, flush).await
    }

    /// The server answers by itself (`http.Error`) and stops the sender.
    async fn answer_instead(&mut self, answer: ServerAnswer, ending: Ending) -> Ending {
        self.stop_sender();
        // A client gone by now changes nothing: the exchange is over.
        if self.write_head(&answer.head()).await.is_ok() {
            let _ = self.write_body(answer.body(), false).await;
        }
        self.exchange.server_answer = Some(answer);
        ending
    }

    /// The call failed before its first message: 503 when it never got
    /// going (the connection is unusable and nothing was sent), 502
    /// otherwise, as upstream tells a failed stream open from a failed
    /// first `Recv`.
    async fn failed_before_response(&mut self, status: &tonic::Status) -> Ending {
        self.exchange.grpc_status = Some(GrpcOutcome::from_status(status));
        if status.code() == Code::Unavailable && self.progress.messages() == 0 {
            let reason = format!(
                "the ServeHTTP stream could not be opened: {}",
                crate::wire::status_text(status)
            );
            self.answer_instead(ServerAnswer::unavailable(reason), Ending::Unavailable)
                .await
        } else {
            let reason = format!(
                "ServeHTTP failed before any response message: {}",
                crate::wire::status_text(status)
            );
            self.answer_instead(ServerAnswer::bad_gateway(reason), Ending::NoResponse)
                .await
        }
    }

    /// Records how the sender stopped; a cancellation hands back the
    /// sending half.
    fn note_send_end(&mut self, end: SendEnd) -> Option<Outbound> {
        match end {
            SendEnd::Complete => None,
            SendEnd::StreamClosed => {
                if self.progress.complete_at().is_none() {
                    self.exchange.request.send_error =
                        Some("the call ended before the whole request was sent".to_owned());
                }
                None
            }
            SendEnd::SourceFailed(reason) => {
                self.exchange.request.send_error = Some(reason);
                None
            }
            SendEnd::Cancelled(tx, sent) => {
                self.exchange.request.send_error = Some(format!(
                    "cancelled by the harness after sending {sent} body bytes"
                ));
                Some(tx)
            }
        }
    }

    /// Ends a call whose response headers have not been seen. Until they
    /// arrive, dropping the call makes the transport reset the stream with
    /// CANCEL, which is what grpc-go sends when a request's context ends;
    /// the outbound stream must not end cleanly first (the plugin would see
    /// end-of-input), so a sending half is kept until the reset has dropped
    /// it. Headers that did arrive meanwhile leave only the way used after
    /// them: end the outbound stream, then drop the call.
    async fn reset_before_headers<F>(&mut self, mut open: Pin<Box<F>>, tx: Option<Outbound>)
    where
        F: Future,
    {
        let keep = tx.or_else(|| self.outbound.as_ref().and_then(|weak| weak.upgrade()));
        self.stop_sender();
        let arrived =
            std::future::poll_fn(|cx| Poll::Ready(open.as_mut().poll(cx).is_ready())).await;
        drop(open);
        if let Some(keep) = keep
            && !arrived
        {
            let _ = tokio::time::timeout(RESET_WAIT, keep.closed()).await;
        }
    }

    /// Upstream's `cancelSend`: the sender stops where it is.
    fn stop_sender(&mut self) {
        if let Some(sender) = self.sender.take() {
            sender.abort();
        }
    }

    fn finish(self, ending: Ending) -> HttpExchange {
        let mut exchange = self.exchange;
        exchange.ending = ending;
        exchange.request.messages = self.progress.messages();
        exchange.request.body_bytes = self.progress.body_bytes();
        exchange.request.body_complete_sent = self.progress.complete_at().is_some();
        exchange.timing.request_sent = self.progress.complete_at();
        exchange.timing.total = self.started.elapsed();
        exchange
    }
}

/// Waits for the sender task while there is one; never returns otherwise.
async fn wait_sender(sender: &mut Option<JoinHandle<SendEnd>>) -> SendEnd {
    match sender {
        Some(handle) => {
            let end = handle.await.unwrap_or(SendEnd::StreamClosed);
            *sender = None;
            end
        }
        None => pending().await,
    }
}

/// Waits for the sender task if there is one.
async fn finish_sender(sender: &mut Option<JoinHandle<SendEnd>>) -> Option<SendEnd> {
    match sender {
        Some(_) => Some(wait_sender(sender).await),
        None => None,
    }
}

/// Reads what follows `body_complete` for up to `wait`: how many messages
/// (the server never reads them) and the call's final status, if it ends.
async fn read_rest(stream: &mut Responses, wait: Duration) -> (usize, Option<GrpcOutcome>) {
    if wait.is_zero() {
        return (0, None);
    }
    let mut after_complete = 0;
    let read = async {
        loop {
            match stream.message().await {
                Ok(Some(_)) => after_complete += 1,
                Ok(None) => return GrpcOutcome::ok(),
                Err(status) => {
                    let status =
                        crate::hooks::as_grpc_go_reports(status, crate::hooks::DEFAULT_DEADLINE);
                    return GrpcOutcome::from_status(&status);
                }
            }
        }
    };
    let outcome = tokio::time::timeout(wait, read).await.ok();
    (after_complete, outcome)
}

/// The harness's own reasons to stop: its deadline, or a cancellation from
/// outside.
async fn interrupted(
    deadline: Option<tokio::time::Instant>,
    cancel: Option<&CancellationToken>,
) -> Ending {
    let timer = async {
        match deadline {
            Some(deadline) => tokio::time::sleep_until(deadline).await,
            None => pending().await,
        }
    };
    let cancelled = async {
        match cancel {
            Some(token) => token.cancelled().await,
            None => pending().await,
        }
    };
    tokio::select! {
        _ = timer => Ending::DeadlineExceeded,
        _ = cancelled => Ending::Cancelled,
    }
}
