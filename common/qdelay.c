/*
 * qdelay.c: the age limit of a receive queue (see qdelay.h). Nothing
 * here does I/O or reads a clock.
 */
#include <string.h>

#include "qdelay.h"

void
qd_init(struct qdelay *q, uint64_t max_ns, uint64_t grace_ns)
{
	q->max_ns = max_ns;
	q->grace_ns = grace_ns;
	q->behind_since = 0;
	q->ovfl = 0;
}

int
qd_late(struct qdelay *q, uint64_t now, uint64_t arrived)
{
	/* no limit, no time stamp, or a clock that went back: on time */
	if (q->max_ns == 0 || arrived == 0 || now <= arrived ||
	    now - arrived <= q->max_ns)
		return 0;
	if (q->behind_since == 0 || q->behind_since > now) {
		q->behind_since = now;
		return q->grace_ns == 0;
	}
	return now - q->behind_since >= q->grace_ns;
}

void
qd_empty(struct qdelay *q)
{
	q->behind_since = 0;
}

void
qd_cmsg(const struct msghdr *h, uint64_t *arrived, uint32_t *ovfl,
    int *has_ovfl)
{
	struct cmsghdr	*cm;
	struct timespec	 ts;

	*arrived = 0;
	*has_ovfl = 0;
	if (h->msg_control == NULL || (h->msg_flags & MSG_CTRUNC) != 0)
		return;
	for (cm = CMSG_FIRSTHDR((struct msghdr *)h); cm != NULL;
	    cm = CMSG_NXTHDR((struct msghdr *)h, cm)) {
		if (cm->cmsg_level != SOL_SOCKET)
			continue;
		if (cm->cmsg_type == SCM_TIMESTAMPNS &&
		    cm->cmsg_len >= CMSG_LEN(sizeof(ts))) {
			memcpy(&ts, CMSG_DATA(cm), sizeof(ts));
			if (ts.tv_sec > 0 && ts.tv_nsec >= 0)
				*arrived = (uint64_t)ts.tv_sec * 1000000000ULL +
				    (uint64_t)ts.tv_nsec;
		} else if (cm->cmsg_type == SO_RXQ_OVFL &&
		    cm->cmsg_len >= CMSG_LEN(sizeof(*ovfl))) {
			memcpy(ovfl, CMSG_DATA(cm), sizeof(*ovfl));
			*has_ovfl = 1;
		}
	}
}

uint32_t
qd_overflow(struct qdelay *q, uint32_t total)
{
	uint32_t	d = total - q->ovfl;	/* wraps like the kernel's */

	q->ovfl = total;
	return d;
}
