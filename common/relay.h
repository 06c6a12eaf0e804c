/*
 * relay.h: the worker's sans-IO channel table.
 *
 * The worker keeps channel -> peer (to send client payloads) and
 * peer -> channel (to frame peer datagrams for the client). It re-checks
 * every peer against the filter before a send (defence in depth,
 * attack case 11).
 *
 * With --indications the supervisor also keeps a set of permitted peer
 * IPs here (PERM_ADD / PERM_DEL): a peer datagram without a channel is
 * forwarded only if its IP is in the set, and a SEND only goes to a peer
 * whose IP is in it and that passes the filter.
 */
#ifndef RELAY_H
#define RELAY_H

#include <stddef.h>
#include <stdint.h>

#include "addr.h"
#include "peer.h"

#define RELAY_MAX_CHANNELS	256
#define RELAY_MAX_PERMS		64	/* >= TURN_MAX_PERMS */

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

/* permissions (port ignored): 0 ok (also when present); -1 EINVAL, ENOSPC */
int		 relay_perm_add(struct relay *, const struct taddr *);
int		 relay_perm_del(struct relay *, const struct taddr *); /* ENOENT */
/* 1 if peer's IP has a permission */
int		 relay_perm_has(const struct relay *, const struct taddr *);
/* 0 if a datagram may go to peer: permission and filter (a refusal by
 * the filter counts in relay_denied()), else -1 */
int		 relay_perm_send(struct relay *, const struct taddr *peer);
size_t		 relay_perm_count(const struct relay *);

#endif
