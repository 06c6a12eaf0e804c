/*
 * sup_spawner.h: the records between the supervisor and the spawner
 * (sup_spawner.c), on their SOCK_SEQPACKET socketpair. Every record is
 * one struct spn_rec, exactly its size; both ends are the same binary.
 */
#ifndef SUP_SPAWNER_H
#define SUP_SPAWNER_H

#include <stdint.h>

enum spn_type {
	SPN_REQ = 1,	/* supervisor -> spawner: start `arg` workers */
	SPN_NEW,	/* spawner -> supervisor: worker `pid` started, its
			 * socketpair end attached (SCM_RIGHTS, one fd) */
	SPN_FAIL,	/* spawner -> supervisor: one start failed, `arg` errno */
	SPN_EXIT,	/* spawner -> supervisor: worker `pid` reaped, `arg`
			 * its wait status */
	SPN_HELLO	/* spawner -> supervisor, first: set up and named */
};

struct spn_rec {
	uint32_t	type;
	uint32_t	pid;
	int32_t		arg;
};

#define SPN_REQ_MAX	256	/* workers one SPN_REQ may ask for */
#define SPN_HELLO_MS	5000	/* the supervisor waits this for SPN_HELLO */

#endif
