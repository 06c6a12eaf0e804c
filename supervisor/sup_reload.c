/*
 * sup_reload.c: SIGHUP re-reads --secret-file (README.md, "Rotating the
 * secret").
 *
 * The file holds one secret per line, at most TURN_SECRETS_MAX: the
 * first mints (`turncell cred`), every one verifies. An operator adds the
 * new secret as the first line, sends SIGHUP, and removes the old line
 * (and sends SIGHUP again) once the longest credential minted with it has
 * expired. A file that cannot be read or parsed changes nothing: the old
 * secrets stay and the log says why. Nonces are keyed apart from the
 * secrets, so they stay valid across a reload. The secrets are kept in one
 * copy, in the vault (sup_secure.c): the new text takes the vault's free
 * slot, the engine is switched to it, the old slot is wiped.
 *
 * Nothing else is reloaded: the other settings come from the command line
 * and the environment, which a running process cannot read again. With a
 * portal token the secret is the one the relay joined the portal with
 * (the portal mints with it), and without --secret-file it was generated
 * at start: in both cases SIGHUP is logged and changes nothing.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "sup.h"

void
sup_reload(struct sup *s)
{
	const struct sup_conf	*c = s->conf;
	const char		*set[TURN_SECRETS_MAX], *why = NULL;
	char			*text = NULL, n[16];
	size_t			 len = 0, lens[TURN_SECRETS_MAX];
	int			 nsec = -1;

	if (c->token != NULL || c->secret_file == NULL) {
		log_kv(LOG_INFO, "Nothing to reload on SIGHUP", "reason",
		    c->token != NULL ? "the secret is the one joined to the "
		    "portal" : "no --secret-file (the generated secret stays)",
		    (char *)NULL);
		return;
	}
	/* the new text goes into the vault's free slot (the read buffer is
	 * wiped there); the engine is switched to it, then the old slot is
	 * wiped: the secrets never exist twice */
	if (sup_secret_read(c->secret_file, &text, &len, &why) == 0) {
		text = sup_secure_secret(text, len);
		if ((nsec = sup_secrets_split(text, len, set, lens,
		    &why)) > 0 &&
		    turn_set_secrets(s->turn, set, lens, (size_t)nsec) == -1) {
			why = "refused by the engine";
			nsec = -1;
		}
	}
	if (nsec <= 0) {
		sup_secure_release(text, len);
		log_kv(LOG_WARN, "Secret file not reloaded, the old secrets "
		    "stay", "file", c->secret_file, "reason", why,
		    (char *)NULL);
		return;
	}
	sup_secure_release(s->secret, s->secret_len);
	s->secret = text;
	s->secret_len = len;
	snprintf(n, sizeof(n), "%d", nsec);
	log_kv(LOG_INFO, "Reloaded the secrets", "file", c->secret_file,
	    "secrets", n, (char *)NULL);
}
