use tokio::sync::watch;

/// The trigger side: `vigil serve` fires it on SIGTERM/SIGINT.
#[derive(Debug)]
pub struct Shutdown {
    sender: watch::Sender<bool>,
}

/// The listening side, cloned into every stage.
#[derive(Clone, Debug)]
pub struct ShutdownSignal {
    receiver: watch::Receiver<bool>,
}

impl Shutdown {
    pub fn new() -> (Shutdown, ShutdownSignal) {
        let (sender, receiver) = watch::channel(false);
        (Shutdown { sender }, ShutdownSignal { receiver })
    }

    pub fn trigger(&self) {
        self.sender.send_replace(true);
    }
}

impl ShutdownSignal {
    /// Resolves once shutdown was triggered (or the trigger is gone).
    pub async fn wait(&mut self) {
        // An error means the sender is dropped: that is a shutdown too.
        let _ = self.receiver.wait_for(|stop| *stop).await;
    }

    pub fn is_triggered(&self) -> bool {
        *self.receiver.borrow()
    }
}
