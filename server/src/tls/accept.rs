//! Our own accept loop: TCP, the TLS handshake under a deadline, then HTTP/1.1 or HTTP/2 with
//! the connection's verified client certificate attached to every request.
//!
//! axum's own `serve` cannot hand the peer certificate to handlers, which is why this loop
//! exists. What a connection is allowed to do is decided by the [`ConnectionHandler`].

use std::{
    future::Future,
    net::SocketAddr,
    pin::Pin,
    sync::Arc,
    task::{Context, Poll},
    time::Duration,
};

use tokio::time::Instant;

use axum::{
    Router,
    body::{Body, Bytes},
    extract::ConnectInfo,
};

use hyper::body::{Body as HttpBody, Frame, Incoming, SizeHint};
use hyper_util::{
    rt::{TokioExecutor, TokioIo, TokioTimer},
    server::{conn::auto, graceful::GracefulShutdown},
};
use tokio::{
    net::{TcpListener, TcpStream},
    sync::watch,
};
use tokio_rustls::TlsAcceptor;
use tower::ServiceExt;

use identity::{HandshakeRefusal, VerifiedClient, certificate::read_identity};

use crate::monitoring::{self, Handshake, InGauge};

use super::{
    admission::{Admission, Busy, Ticket},
    first_request::FirstRequestDeadline,
    presented::{Presented, noting_refusal},
    proxy_header::{self, ProxyHeaderError, ProxyProtocol},
};

/// Streams one HTTP/2 connection may have open at once (a page and its server functions need a
/// handful; browsers open up to 100).
pub const HTTP2_MAX_STREAMS: u32 = 100;
/// Streams a client may reset before the server took them up; more is a rapid-reset attack.
pub const HTTP2_MAX_PENDING_RESETS: usize = 20;
/// Streams the server may have to reset for the client's errors before it ends the connection.
pub const HTTP2_MAX_LOCAL_RESETS: usize = 256;
/// The decoded request header list, in bytes: a forwarded certificate chain and cookies fit.
pub const HTTP2_MAX_HEADER_LIST: u32 = 32 * 1024;

/// What to do with connections once TLS has done its part.
pub trait ConnectionHandler: Send + Sync + 'static {
    /// A handshake succeeded. Returns the router that serves this connection's requests.
    fn connected(
        &self,
        peer: SocketAddr,
        client: Option<&VerifiedClient>,
    ) -> impl Future<Output = Router> + Send;

    /// A handshake failed because of the client's certificate (`presented`: what the verifier
    /// turned down, when it got that far).
    fn refused(
        &self,
        peer: SocketAddr,
        refusal: HandshakeRefusal,
        presented: Option<Presented>,
    ) -> impl Future<Output = ()> + Send;
}

pub struct AcceptLoop<H> {
    listener: TcpListener,
    /// The current TLS configuration; the reloader replaces it when CRLs change.
    acceptor: watch::Receiver<TlsAcceptor>,
    handler: Arc<H>,
    admission: Arc<Admission>,
    proxy: ProxyProtocol,
    handshake_timeout: Duration,
    header_read_timeout: Duration,
    drain_timeout: Duration,
}

impl<H: ConnectionHandler> AcceptLoop<H> {
    pub fn new(
        listener: TcpListener,
        acceptor: watch::Receiver<TlsAcceptor>,
        handler: H,
        admission: Arc<Admission>,
        proxy: ProxyProtocol,
        handshake_timeout: Duration,
        header_read_timeout: Duration,
    ) -> Self {
        Self {
            listener,
            acceptor,
            handler: Arc::new(handler),
            admission,
            proxy,
            handshake_timeout,
            header_read_timeout,
            drain_timeout: Duration::from_secs(30),
        }
    }

    /// Serves until `shutdown` completes, then lets open requests finish for up to 30 seconds,
    /// so that a restart in a maintenance window cuts no download short.
    pub async fn run(self, shutdown: impl Future<Output = ()>) {
        let graceful = GracefulShutdown::new();
        let mut http = auto::Builder::new(TokioExecutor::new());
        http.http1()
            .timer(TokioTimer::new())
            .header_read_timeout(self.header_read_timeout);
        // HTTP/2's limits stated here rather than left to library defaults, against the known
        // abuses: rapid reset (CVE-2023-44487: streams reset before they are served count, and
        // past the limit the connection ends with GOAWAY ENHANCE_YOUR_CALM), CONTINUATION floods
        // and huge header lists (the whole decoded list is bounded; over it, 431), streams that
        // hold memory, and dead peers (pings, then the connection is closed).
        http.http2()
            .timer(TokioTimer::new())
            .max_concurrent_streams(HTTP2_MAX_STREAMS)
            .max_pending_accept_reset_streams(HTTP2_MAX_PENDING_RESETS)
            .max_local_error_reset_streams(HTTP2_MAX_LOCAL_RESETS)
            .max_header_list_size(HTTP2_MAX_HEADER_LIST)
            .keep_alive_interval(Duration::from_secs(30))
            .keep_alive_timeout(Duration::from_secs(20));
        // The protocol is known from ALPN, so hyper need not sniff it: sniffing waits for bytes
        // without any deadline. No ALPN means HTTP/1.1.
        let shared = Arc::new(Shared {
            admission: self.admission.clone(),
            handler: self.handler.clone(),
            http: Protocols {
                http1: http.clone().http1_only(),
                http2: http.http2_only(),
            },
            first_request_timeout: self.header_read_timeout,
        });

        tokio::pin!(shutdown);
        loop {
            let (tcp, peer) = tokio::select! {
                () = &mut shutdown => break,
                accepted = self.listener.accept() => match accepted {
                    Ok(accepted) => accepted,
                    Err(error) => {
                        // Running out of file descriptors under a flood: back off instead of spinning.
                        tracing::warn!(%error, "accept failed");
                        tokio::time::sleep(Duration::from_millis(50)).await;
                        continue;
                    }
                },
            };
            // The TLS handshake's deadline, which the PROXY header's and the handshake slot's
            // waits count against: under a flood a connection that cannot be served in time is
            // closed, not queued without end.
            let deadline = Instant::now() + self.handshake_timeout;
            let acceptor = self.acceptor.borrow().clone();
            let watcher = graceful.watcher();
            if self.proxy.expected_from(peer.ip()) {
                // A balancer's connection is admitted by its client's address, which only the
                // header says. The balancer is trusted to bound its own connections.
                let shared = shared.clone();
                tokio::spawn(async move {
                    let mut tcp = tcp;
                    let read = proxy_header::read_client_address(&mut tcp, peer);
                    let client = match tokio::time::timeout_at(deadline, read).await {
                        Ok(Ok(client)) => client,
                        Ok(Err(error)) => return refused_for_header(peer, &error),
                        Err(_) => return refused_for_header(peer, &ProxyHeaderError::TimedOut),
                    };
                    if let Some(connection) = shared.admit(client, acceptor, deadline) {
                        connection.serve(tcp, watcher, true).await;
                    }
                });
            } else if let Some(connection) = shared.admit(peer, acceptor, deadline) {
                // Before any TLS work: over a cap, the connection cost a close.
                tokio::spawn(connection.serve(tcp, watcher, false));
            }
        }

        tracing::info!(
            open_connections = graceful.count(),
            "stopped accepting connections; letting open requests finish"
        );
        if tokio::time::timeout(self.drain_timeout, graceful.shutdown())
            .await
            .is_err()
        {
            tracing::warn!("connections still open after the drain timeout; closing them");
        }
    }
}

struct Protocols {
    http1: auto::Builder<TokioExecutor>,
    http2: auto::Builder<TokioExecutor>,
}

/// What every connection of the loop uses.
struct Shared<H> {
    admission: Arc<Admission>,
    handler: Arc<H>,
    http: Protocols,
    first_request_timeout: Duration,
}

impl<H: ConnectionHandler> Shared<H> {
    /// Admits a connection from `peer` (the client, behind a balancer) or, over a cap, refuses
    /// it: the caller drops the socket, which is all the refusal costs.
    fn admit(
        self: &Arc<Self>,
        peer: SocketAddr,
        acceptor: TlsAcceptor,
        deadline: Instant,
    ) -> Option<Connection<H>> {
        match self.admission.admit(peer.ip()) {
            Ok(ticket) => Some(Connection {
                shared: self.clone(),
                acceptor,
                ticket,
                deadline,
                peer,
            }),
            Err(refusal) => {
                monitoring::connection_refused(refusal.code());
                tracing::debug!(%peer, reason = refusal.code(), "connection refused at accept");
                None
            }
        }
    }
}

/// A connection closed for its PROXY header (or the lack of one): loudly, since either a
/// balancer is misconfigured or someone tries to choose their own address.
fn refused_for_header(peer: SocketAddr, error: &ProxyHeaderError) {
    monitoring::proxy_header_refused(error.code());
    tracing::warn!(%peer, reason = error.code(), %error, "connection closed for its PROXY header");
}

struct Connection<H> {
    shared: Arc<Shared<H>>,
    acceptor: TlsAcceptor,
    /// Counts the connection as open until it ends.
    ticket: Ticket,
    deadline: Instant,
    /// The client: the TCP peer, or the address a balancer's PROXY header gave.
    peer: SocketAddr,
}

impl<H: ConnectionHandler> Connection<H> {
    /// Serves the connection; `header_read` says whether a balancer's PROXY header has been
    /// read from it already.
    async fn serve(
        self,
        tcp: TcpStream,
        watcher: hyper_util::server::graceful::Watcher,
        header_read: bool,
    ) {
        let peer = self.peer;
        // A response goes out in several TLS records; with Nagle's algorithm the last of them
        // waits for the client's delayed ACK (about 40 ms on Linux) on every request.
        if let Err(error) = tcp.set_nodelay(true) {
            tracing::debug!(%peer, %error, "TCP_NODELAY not set");
        }
        let _open = InGauge::enter(monitoring::CONNECTIONS_OPEN);
        // The first byte is awaited before a handshake slot is taken, so that connections which
        // send nothing hold no slot; it also tells a PROXY header from a ClientHello.
        if !header_read {
            match tokio::time::timeout_at(self.deadline, proxy_header::begins_like_header(&tcp))
                .await
            {
                Ok(false) => {}
                Ok(true) => return refused_for_header(peer, &ProxyHeaderError::NotFromBalancer),
                Err(_) => {
                    monitoring::handshake(Handshake::TimedOut);
                    tracing::debug!(%peer, "nothing sent before the TLS handshake deadline");
                    return;
                }
            }
        }
        let shared = &self.shared;
        let handshake = noting_refusal(self.acceptor.accept(tcp));
        let handshakes = shared.admission.handshakes().clone();
        let handshake = tokio::time::timeout_at(self.deadline, async move {
            let _slot = handshakes.acquire_owned().await;
            let _shaking = InGauge::enter(monitoring::HANDSHAKES_IN_PROGRESS);
            handshake.await
        })
        .await;
        let tls = match handshake {
            Err(_) => {
                monitoring::handshake(Handshake::TimedOut);
                tracing::debug!(%peer, "TLS handshake timed out");
                return;
            }
            Ok((Err(error), presented)) => {
                match HandshakeRefusal::from_handshake_error(&error) {
                    Some(refusal) => {
                        monitoring::handshake(Handshake::Refused(refusal.code()));
                        tracing::warn!(%peer, reason = refusal.code(), "client certificate refused");
                        shared.handler.refused(peer, refusal, presented).await;
                    }
                    None => {
                        monitoring::handshake(Handshake::Failed);
                        tracing::debug!(%peer, %error, "TLS handshake failed");
                    }
                }
                return;
            }
            Ok((Ok(tls), _)) => tls,
        };

        let client = match verified_client(tls.get_ref().1) {
            Ok(client) => {
                monitoring::handshake(if client.is_some() {
                    Handshake::Card
                } else {
                    Handshake::Anonymous
                });
                client
            }
            Err(error) => {
                let refusal = HandshakeRefusal::BadCertificate;
                monitoring::handshake(Handshake::Refused(refusal.code()));
                // rustls accepted the chain, so this is a certificate we cannot read.
                tracing::warn!(%peer, %error, "verified client certificate cannot be read");
                let presented = tls
                    .get_ref()
                    .1
                    .peer_certificates()
                    .and_then(|chain| chain.first())
                    .map(Presented::from_der);
                shared.handler.refused(peer, refusal, presented).await;
                return;
            }
        };
        let router = shared.handler.connected(peer, client.as_ref()).await;
        let activity = self.ticket.ready();

        let service = hyper::service::service_fn(move |mut request: http::Request<Incoming>| {
            let busy = activity.start();
            let extensions = request.extensions_mut();
            extensions.insert(ConnectInfo(peer));
            if let Some(client) = &client {
                extensions.insert(client.clone());
            }
            let response = router.clone().oneshot(request.map(Body::new));
            async move {
                let response = response.await?;
                Ok::<_, std::convert::Infallible>(
                    response.map(|body| Body::new(Sending { body, _busy: busy })),
                )
            }
        });
        let http = match tls.get_ref().1.alpn_protocol() {
            Some(b"h2") => &shared.http.http2,
            _ => &shared.http.http1,
        };
        let io = TokioIo::new(FirstRequestDeadline::new(tls, shared.first_request_timeout));
        let connection = http.serve_connection(io, service);
        tokio::select! {
            ended = watcher.watch(connection.into_owned()) => if let Err(error) = ended {
                tracing::debug!(%peer, %error, "connection ended with an error");
            },
            // Idle (no request in flight), so closing it loses nothing, as an idle keep-alive
            // connection's timeout would not.
            () = self.ticket.closed_to_make_room() => {
                tracing::debug!(%peer, "idle connection closed to make room at the total cap");
            }
        }
    }
}

/// A response body that keeps its connection counted busy until it has been sent whole (or
/// dropped): a long download is not idle.
struct Sending {
    body: Body,
    _busy: Busy,
}

impl HttpBody for Sending {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, axum::Error>>> {
        Pin::new(&mut self.body).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.body.size_hint()
    }
}

/// The client's verified chain and identity; `None` when the client presented no certificate.
fn verified_client(
    tls: &rustls::ServerConnection,
) -> Result<Option<VerifiedClient>, identity::certificate::IdentityError> {
    match tls.peer_certificates() {
        Some(chain) => client_from_chain(chain),
        None => Ok(None),
    }
}

/// A [`VerifiedClient`] from a chain that a verifier has accepted, leaf first.
pub(crate) fn client_from_chain(
    chain: &[rustls::pki_types::CertificateDer<'_>],
) -> Result<Option<VerifiedClient>, identity::certificate::IdentityError> {
    let Some(leaf) = chain.first() else {
        return Ok(None);
    };
    let identity = read_identity(leaf)?;
    let chain: Arc<[Vec<u8>]> = chain.iter().map(|cert| cert.to_vec()).collect();
    Ok(Some(VerifiedClient::new(chain, identity)))
}
