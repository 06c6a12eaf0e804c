/*
 * phx_url.c: --api-url to the websocket the relay dials.
 *
 * Scheme: http and ws give ws, https and wss give wss; anything else is
 * an error. Host: a name, an IPv4 literal or a bracketed IPv6 literal (no
 * zone); user information is refused. Port: 1-65535, default 80/443; the
 * Host header carries it only when it is not the scheme's default. Path:
 * the base path without trailing slashes, then /relay/websocket; the base
 * URL's query and fragment are replaced by name, ipv4, ipv6 and port (in
 * that order, each only when set, percent-encoded). The token is not in
 * the URL: it goes in an X-Authorization header.
 */
#include <arpa/inet.h>
#include <netinet/in.h>

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "phx.h"

#define PHX_WS_PATH	"/relay/websocket"

static const struct {
	const char	*prefix;
	int		 tls;
} phx_schemes[] = {
	{ "http://", 0 }, { "https://", 1 }, { "ws://", 0 }, { "wss://", 1 }
};

static int
phx_isalnum(unsigned char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') ||
	    (c >= 'A' && c <= 'Z');
}

/* RFC 3986 unreserved characters stay, every other byte is %XX */
size_t
phx_urlenc(const char *s, char *out, size_t cap)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t		 n = 0;
	unsigned char	 c;

	for (; *s != '\0'; s++) {
		c = (unsigned char)*s;
		if (phx_isalnum(c) || c == '-' || c == '.' || c == '_' ||
		    c == '~') {
			if (n + 1 >= cap)
				return 0;
			out[n++] = (char)c;
		} else {
			if (n + 3 >= cap)
				return 0;
			out[n++] = '%';
			out[n++] = hex[c >> 4];
			out[n++] = hex[c & 0xf];
		}
	}
	if (n >= cap)
		return 0;
	out[n] = '\0';
	return n;
}

static const char *
phx_url_scheme(struct phx_url *u, const char *url)
{
	size_t	 i, n;

	for (i = 0; i < sizeof(phx_schemes) / sizeof(phx_schemes[0]); i++) {
		n = strlen(phx_schemes[i].prefix);
		if (strncasecmp(url, phx_schemes[i].prefix, n) == 0) {
			u->tls = phx_schemes[i].tls;
			return url + n;
		}
	}
	return NULL;
}

/* decimal 1-65535 filling [s, end) exactly */
static int
phx_url_port(const char *s, const char *end, uint16_t *port)
{
	unsigned long	 v = 0;

	if (s == end)
		return -1;
	for (; s < end; s++) {
		if (*s < '0' || *s > '9')
			return -1;
		v = v * 10 + (unsigned long)(*s - '0');
		if (v > 65535)
			return -1;
	}
	if (v == 0)
		return -1;
	*port = (uint16_t)v;
	return 0;
}

/* the authority [s, end): host, optional port */
static int
phx_url_authority(struct phx_url *u, const char *s, const char *end,
    const char **why)
{
	const char	*h, *hend, *portp = NULL;
	unsigned char	 a[16];
	size_t		 hlen, i;
	int		 v6 = 0;

	if (memchr(s, '@', (size_t)(end - s)) != NULL) {
		*why = "user information in the URL is not supported";
		return -1;
	}
	if (s < end && *s == '[') {
		h = s + 1;
		if ((hend = memchr(h, ']', (size_t)(end - h))) == NULL) {
			*why = "unterminated IPv6 literal";
			return -1;
		}
		if (hend + 1 < end) {
			if (hend[1] != ':') {
				*why = "bad host";
				return -1;
			}
			portp = hend + 2;
		}
		v6 = 1;
	} else {
		h = s;
		if ((hend = memchr(s, ':', (size_t)(end - s))) != NULL)
			portp = hend + 1;
		else
			hend = end;
	}
	hlen = (size_t)(hend - h);
	if (hlen == 0 || hlen >= sizeof(u->host)) {
		*why = "missing or overlong host";
		return -1;
	}
	for (i = 0; i < hlen; i++) {
		if (!phx_isalnum((unsigned char)h[i]) && h[i] != '-' &&
		    h[i] != '.' && h[i] != '_' && !(v6 && h[i] == ':')) {
			*why = "bad character in host";
			return -1;
		}
	}
	memcpy(u->host, h, hlen);
	u->host[hlen] = '\0';
	if (v6 && inet_pton(AF_INET6, u->host, a) != 1) {
		*why = "bad IPv6 literal";
		return -1;
	}
	u->numeric = v6 || inet_pton(AF_INET, u->host, a) == 1;
	u->port = u->tls ? 443 : 80;
	if (portp != NULL && phx_url_port(portp, end, &u->port) == -1) {
		*why = "bad port";
		return -1;
	}
	if (u->port == (u->tls ? 443 : 80))
		snprintf(u->hosthdr, sizeof(u->hosthdr), "%s%s%s",
		    v6 ? "[" : "", u->host, v6 ? "]" : "");
	else
		snprintf(u->hosthdr, sizeof(u->hosthdr), "%s%s%s:%u",
		    v6 ? "[" : "", u->host, v6 ? "]" : "", u->port);
	return 0;
}

int
phx_url_parse(struct phx_url *u, const char *url, const char **why)
{
	const char	*s, *auth_end, *pend;
	size_t		 plen, i;

	memset(u, 0, sizeof(*u));
	if (strnlen(url, PHX_MAX_URL + 1) > PHX_MAX_URL) {
		*why = "overlong URL";
		return -1;
	}
	if ((s = phx_url_scheme(u, url)) == NULL) {
		*why = "unsupported URL scheme (use http, https, ws or wss)";
		return -1;
	}
	auth_end = s + strcspn(s, "/?#");
	if (phx_url_authority(u, s, auth_end, why) == -1)
		return -1;

	/* base path without its trailing '/', then /relay/websocket */
	pend = auth_end + strcspn(auth_end, "?#");
	while (pend > auth_end && pend[-1] == '/')
		pend--;
	plen = (size_t)(pend - auth_end);
	for (i = 0; i < plen; i++) {
		if ((unsigned char)auth_end[i] <= 0x20 ||
		    (unsigned char)auth_end[i] >= 0x7f) {
			*why = "bad character in path";
			return -1;
		}
	}
	/* PHX_MAX_URL keeps this far below sizeof(u->path) */
	memcpy(u->path, auth_end, plen);
	memcpy(u->path + plen, PHX_WS_PATH, sizeof(PHX_WS_PATH));
	return 0;
}

static int
phx_url_param(struct phx_url *u, int *first, const char *k, const char *v)
{
	char	 enc[3 * 256 + 1];
	size_t	 len = strlen(u->path);
	int	 n;

	if (v == NULL)
		return 0;
	enc[0] = '\0';
	if (*v != '\0' && phx_urlenc(v, enc, sizeof(enc)) == 0)
		return -1;
	n = snprintf(u->path + len, sizeof(u->path) - len, "%c%s=%s",
	    *first ? '?' : '&', k, enc);
	if (n < 0 || (size_t)n >= sizeof(u->path) - len) {
		u->path[len] = '\0';
		return -1;
	}
	*first = 0;
	return 0;
}

/* append ?name=..&ipv4=..&ipv6=..&port=.. to the path; -1 too long */
int
phx_url_query(struct phx_url *u, const struct phx_conf *c)
{
	char	 port[8];
	int	 first = 1;

	snprintf(port, sizeof(port), "%u", (unsigned int)c->port);
	if (phx_url_param(u, &first, "name", c->name) == -1 ||
	    phx_url_param(u, &first, "ipv4", c->ipv4) == -1 ||
	    phx_url_param(u, &first, "ipv6", c->ipv6) == -1 ||
	    phx_url_param(u, &first, "port", port) == -1)
		return -1;
	return 0;
}
