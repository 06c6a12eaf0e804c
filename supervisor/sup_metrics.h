/*
 * sup_metrics.h: the supervisor's counters, read by /metrics and the
 * 10 s stats line. The supervisor owns the single instance (sup_metrics);
 * the engine's own counters come through turn_get_stats().
 */
#ifndef SUP_METRICS_H
#define SUP_METRICS_H

#include <stdint.h>

/* method slots for responses_total */
enum sup_method { SM_BINDING, SM_ALLOCATE, SM_REFRESH, SM_CREATE_PERMISSION,
	SM_CHANNEL_BIND, SM_OTHER, SM_MAX };
#define SUP_MAX_CODES	16	/* distinct error codes tracked per method */

struct sup_code_count {
	int		code;		/* 0 = slot unused, 200 = success */
	uint64_t	count;
};

struct sup_metrics {
	struct sup_code_count responses[SM_MAX][SUP_MAX_CODES];
	uint64_t	workers_started;
	uint64_t	workers_crashed;	/* died without being asked */
	uint64_t	workers_killed;		/* killed for misbehaviour */
	uint64_t	sandbox_violations;	/* died of SIGSYS */
	uint64_t	pool_taken;		/* starts served by an idle worker */
	uint64_t	pool_misses;		/* starts that found the pool empty */
	uint64_t	pool_lost;		/* idle workers that died */
	uint64_t	workers_direct;		/* forked by the supervisor itself */
	uint64_t	rsock_released;		/* relay sockets not kept: the
						 * descriptor limit was near */
	int		spawner_up;
	int		portal_connected;
	int		draining;
};

extern struct sup_metrics sup_metrics;

/* count one response (method code from stun.h, class, error code or 0) */
void	sup_metrics_response(uint16_t method, int cls, int code);
const char *sup_method_label(enum sup_method);

#endif
