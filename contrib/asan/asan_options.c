/*
 * asan_options.c: linked into the binaries of make check-asan only.
 *
 * The supervisor starts its workers with an empty environment, so
 * ASAN_OPTIONS cannot reach them: the sanitizer runtimes ask these
 * functions for their defaults instead. Every report goes to a file under
 * TC_SAN_LOG (one per process, name.PID), where the make target looks for
 * them after the run; an empty directory is a clean run. Leak checking is
 * off: the tests end relays and workers with SIGKILL, so it would never
 * run, and at a normal exit the supervisor is not dumpable (LSan cannot
 * attach to its own threads).
 */
#ifndef TC_SAN_LOG
#error "TC_SAN_LOG: the directory and prefix for sanitizer reports"
#endif

const char	*__asan_default_options(void);
const char	*__ubsan_default_options(void);

const char *
__asan_default_options(void)
{
	return "log_path=" TC_SAN_LOG ":detect_leaks=0:abort_on_error=0"
	    ":handle_abort=1";
}

const char *
__ubsan_default_options(void)
{
	return "log_path=" TC_SAN_LOG ":print_stacktrace=1";
}
