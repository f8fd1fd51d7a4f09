//! Answers to what peers ask of this node.

use std::sync::Arc;

use p2p_api::limits::{MAX_QUERY_CHARS, MAX_SEARCH_LIMIT};

use super::Marketplace;
use crate::blocking;
use crate::network::protocol::{FetchResponse, SearchResponse};
use crate::network::Event;
use crate::package::Content;

impl Marketplace {
    /// Handles one inbound event. Content reads run on their own task so that a slow disk
    /// does not hold up searches and gossip.
    pub async fn handle_event(self: &Arc<Self>, event: Event) {
        match event {
            Event::InboundSearch {
                request, channel, ..
            } => {
                let limit = (request.limit as usize).min(MAX_SEARCH_LIMIT);
                let hits = if request.query.chars().count() > MAX_QUERY_CHARS {
                    self.metrics.rejected("search", "limit");
                    Vec::new()
                } else {
                    self.index
                        .read()
                        .expect("index lock poisoned")
                        .search(&request.query, limit)
                };
                let _ = self
                    .network
                    .respond_search(channel, SearchResponse { hits })
                    .await;
            }
            Event::InboundFetch {
                peer,
                request,
                channel,
            } => {
                let this = Arc::clone(self);
                tokio::spawn(async move {
                    // A few content reads at once: each holds a package in memory.
                    let Ok(_permit) = this.fetches.acquire().await else {
                        return;
                    };
                    let store = this.store.clone();
                    let sha256 = request.sha256.clone();
                    let content = match blocking(move || store.content(&sha256)).await {
                        Ok(Content::Verified(bytes)) => Some(bytes),
                        Ok(Content::Missing) => None,
                        // It went bad on disk: moved aside, and no longer stored here.
                        Ok(Content::Quarantined) => {
                            this.content_lost(&request.sha256);
                            None
                        }
                        Err(e) => {
                            tracing::error!(%peer, error = %p2p_api::error::chain(&e), "reading content for a peer failed");
                            None
                        }
                    };
                    let response = FetchResponse {
                        content: content.map(serde_bytes::ByteBuf::from),
                    };
                    let _ = this.network.respond_fetch(channel, response).await;
                });
            }
            Event::Gossip {
                id,
                propagation_source,
                data,
                received_at,
            } => {
                let valid = self.on_gossip(propagation_source, &data, received_at);
                if let Err(e) = self
                    .network
                    .judge_gossip(id, propagation_source, valid)
                    .await
                {
                    tracing::debug!(error = %e, "could not judge a gossip message");
                }
            }
        }
    }
}
