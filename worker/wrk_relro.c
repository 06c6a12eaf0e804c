/*
 * wrk_relro.c: the worker's RELRO pages made read-only.
 *
 * The linker puts what only the start-up writes (the GOT, .init_array,
 * .fini_array, .data.rel.ro: tables of function pointers) in the
 * PT_GNU_RELRO segment, and the start-up code is meant to make its pages
 * read-only once relocated (-z relro; -z now: nothing is relocated later).
 * glibc's static PIE start-up does; musl's (rcrt1.o) relocates and leaves
 * them writable. So the worker does it itself, first thing in main(),
 * before it reads a byte from anyone: the same pages glibc protects (the
 * segment's start rounded down, its end rounded down to a page, since the
 * last page is shared with .data). With glibc it changes nothing.
 */
#include <sys/types.h>
#include <sys/mman.h>

#include <elf.h>
#include <link.h>
#include <stdint.h>
#include <unistd.h>

#include "wrk.h"

/* the linker's symbol at the ELF header of this executable */
extern const ElfW(Ehdr)	__ehdr_start;

int
wrk_relro(void)
{
	const ElfW(Ehdr)	*eh = &__ehdr_start;
	const ElfW(Phdr)	*ph;
	uintptr_t		 base = 0, lo, hi, pg;
	long			 sz;
	size_t			 i;
	int			 found = 0;

	if ((sz = sysconf(_SC_PAGESIZE)) <= 0)
		return -1;
	pg = (uintptr_t)sz;
	/* through an integer: the headers follow the object the symbol names,
	 * which UBSan's object-size check would take for an overrun */
	ph = (const ElfW(Phdr) *)((uintptr_t)eh + (uintptr_t)eh->e_phoff);
	/* the load address: where the segment holding the header went */
	for (i = 0; i < eh->e_phnum; i++)
		if (ph[i].p_type == PT_LOAD && ph[i].p_offset == 0) {
			base = (uintptr_t)eh - ph[i].p_vaddr;
			found = 1;
			break;
		}
	if (!found)
		return -1;
	for (i = 0; i < eh->e_phnum; i++) {
		if (ph[i].p_type != PT_GNU_RELRO)
			continue;
		lo = (base + ph[i].p_vaddr) & ~(pg - 1);
		hi = (base + ph[i].p_vaddr + ph[i].p_memsz) & ~(pg - 1);
		if (hi > lo && mprotect((void *)lo, hi - lo, PROT_READ) == -1)
			return -1;
	}
	return 0;
}
