//! A deadline for the first request bytes on a fresh connection.
//!
//! hyper's header-read timeout starts only once it is reading a request, and HTTP/2 waits for
//! the client's connection preface without any limit. A client that completes the handshake
//! and then stays silent would hold the connection forever; this wrapper makes reading fail
//! once the deadline passes without a single byte.

use std::{
    future::Future,
    io,
    pin::Pin,
    task::{Context, Poll},
    time::Duration,
};

use tokio::{
    io::{AsyncRead, AsyncWrite, ReadBuf},
    time::Sleep,
};

pub struct FirstRequestDeadline<I> {
    inner: I,
    /// `None` once the first byte has arrived.
    deadline: Option<Pin<Box<Sleep>>>,
}

impl<I> FirstRequestDeadline<I> {
    pub fn new(inner: I, timeout: Duration) -> Self {
        Self {
            inner,
            deadline: Some(Box::pin(tokio::time::sleep(timeout))),
        }
    }
}

impl<I: AsyncRead + Unpin> AsyncRead for FirstRequestDeadline<I> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = &mut *self;
        let before = buf.filled().len();
        match Pin::new(&mut this.inner).poll_read(cx, buf) {
            Poll::Ready(Ok(())) => {
                if buf.filled().len() > before {
                    this.deadline = None;
                }
                Poll::Ready(Ok(()))
            }
            Poll::Ready(Err(error)) => Poll::Ready(Err(error)),
            Poll::Pending => {
                let expired = this
                    .deadline
                    .as_mut()
                    .is_some_and(|deadline| deadline.as_mut().poll(cx).is_ready());
                if expired {
                    Poll::Ready(Err(io::Error::new(
                        io::ErrorKind::TimedOut,
                        "no request within the header read timeout",
                    )))
                } else {
                    Poll::Pending
                }
            }
        }
    }
}

impl<I: AsyncWrite + Unpin> AsyncWrite for FirstRequestDeadline<I> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt, duplex};

    #[tokio::test(start_paused = true)]
    async fn silence_past_the_deadline_is_an_error() {
        let (_client, server) = duplex(64);
        let mut guarded = FirstRequestDeadline::new(server, Duration::from_secs(10));
        let mut buf = [0u8; 8];
        let error = guarded.read(&mut buf).await.expect_err("times out");
        assert_eq!(error.kind(), io::ErrorKind::TimedOut);
    }

    #[tokio::test(start_paused = true)]
    async fn after_the_first_byte_there_is_no_deadline() {
        let (mut client, server) = duplex(64);
        let mut guarded = FirstRequestDeadline::new(server, Duration::from_secs(10));
        client.write_all(b"G").await.expect("write");
        let mut buf = [0u8; 8];
        assert_eq!(guarded.read(&mut buf).await.expect("read"), 1);
        tokio::time::advance(Duration::from_secs(60)).await;
        client.write_all(b"ET").await.expect("write");
        assert_eq!(guarded.read(&mut buf).await.expect("read"), 2);
    }
}
