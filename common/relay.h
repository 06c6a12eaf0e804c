/*
 * relay.h: the worker's sans-IO channel table.
 *
 * The worker keeps channel -> peer (to send client payloads) and
 * peer -> channel (to frame peer datagrams for the client). It re-checks
 * every peer against the filter before a send (defence in depth,
 * SECURITY.md case 11).
 */
#ifndef RELAY_H
#define RELAY_H

#include <stddef.h>
#include <stdint.h>

#include "addr.h"
#include "peer.h"

#define RELAY_MAX_CHANNELS	256

struct relay;

struct relay	*relay_new(const struct peer_filter *);
void		 relay_free(struct relay *);
/* 0 ok; -1 bad channel/peer, table full, or number/peer bound elsewhere */
int		 relay_chan_add(struct relay *, uint16_t chan, const struct taddr *);
int		 relay_chan_del(struct relay *, uint16_t chan);
/* client -> peer: the peer for chan, or NULL (unknown or denied peer) */
const struct taddr *relay_to_peer(struct relay *, uint16_t chan);
/* peer -> client: the channel for a peer, 0 if none */
uint16_t	 relay_from_peer(const struct relay *, const struct taddr *);
size_t		 relay_count(const struct relay *);
uint64_t	 relay_denied(const struct relay *);	/* sends refused */

#endif
