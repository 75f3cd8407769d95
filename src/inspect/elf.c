/*
 * elf.c - a small bounded ELF reader: the header, the PT_LOAD program
 * headers and the .text/.rodata/.data/.bss section headers of a 32- or
 * 64-bit ELF file, so the address-space table can place each section
 * exactly (through the load bias of a PIE).
 *
 * Every offset and count in the file is distrusted: headers are read one
 * at a time through a read callback that fails on short reads, counts are
 * capped (65535 headers) and the section-name table is at most 1 MiB. A
 * file of any size or shape costs bounded work and memory.
 */
#include "inspect.h"

#include <elf.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define ELF_MAX_HDRS   65535u
#define ELF_MAX_STRTAB (1u << 20)

static const char *const elf_sec_names[IPCX__SEC_COUNT] = {".text", ".rodata",
                                                           ".data", ".bss"};

const char *ipcx__sec_name(enum ipcx__sec s)
{
	return (unsigned)s < IPCX__SEC_COUNT ? elf_sec_names[s] : "?";
}

/* One program or section header, widened to 64 bits whatever the class. */
struct elf_phdr {
	uint32_t type;
	uint64_t offset, vaddr;
};

struct elf_shdr {
	uint32_t name, type;
	uint64_t addr, offset, size;
};

struct elf_hdr {
	int bits;
	uint16_t type, machine;
	uint64_t phoff, shoff;
	uint16_t phentsize, phnum, shentsize, shnum, shstrndx;
};

static int elf_bad(const char *what)
{
	return ipcx__err(IPCX_ECORRUPT, "not a usable ELF file: %s", what);
}

/* The file header: identity, class, byte order (host's only). */
static int elf_read_hdr(ipcx__elf_read_fn rd, void *ctx, struct elf_hdr *h)
{
	unsigned char ident[EI_NIDENT];

	if (rd(ctx, 0, ident, sizeof(ident)) != 0 ||
	    memcmp(ident, ELFMAG, SELFMAG) != 0)
		return ipcx__err(IPCX_ECORRUPT,
		                 "not an ELF file (no \\177ELF magic)");
	if (ident[EI_DATA] != ELFDATA2LSB)
		return elf_bad("not little-endian");
	if (ident[EI_CLASS] == ELFCLASS64) {
		Elf64_Ehdr e;
		if (rd(ctx, 0, &e, sizeof(e)) != 0)
			return elf_bad("truncated header");
		*h = (struct elf_hdr){64,          e.e_type,      e.e_machine,
		                      e.e_phoff,   e.e_shoff,     e.e_phentsize,
		                      e.e_phnum,   e.e_shentsize, e.e_shnum,
		                      e.e_shstrndx};
		if ((h->phnum && h->phentsize < sizeof(Elf64_Phdr)) ||
		    (h->shnum && h->shentsize < sizeof(Elf64_Shdr)))
			return elf_bad("header entries too small");
	} else if (ident[EI_CLASS] == ELFCLASS32) {
		Elf32_Ehdr e;
		if (rd(ctx, 0, &e, sizeof(e)) != 0)
			return elf_bad("truncated header");
		*h = (struct elf_hdr){32,          e.e_type,      e.e_machine,
		                      e.e_phoff,   e.e_shoff,     e.e_phentsize,
		                      e.e_phnum,   e.e_shentsize, e.e_shnum,
		                      e.e_shstrndx};
		if ((h->phnum && h->phentsize < sizeof(Elf32_Phdr)) ||
		    (h->shnum && h->shentsize < sizeof(Elf32_Shdr)))
			return elf_bad("header entries too small");
	} else {
		return elf_bad("unknown class");
	}
	return 0;
}

/* Entry i of a table at off with entries of ent bytes; overflow-checked. */
static int elf_entry_off(uint64_t off, uint16_t ent, unsigned i,
                         uint64_t *where)
{
	uint64_t step = (uint64_t)ent * i;

	if (off > UINT64_MAX - step)
		return -1;
	*where = off + step;
	return 0;
}

static int elf_read_phdr(ipcx__elf_read_fn rd, void *ctx,
                         const struct elf_hdr *h, unsigned i,
                         struct elf_phdr *p)
{
	uint64_t at;

	if (elf_entry_off(h->phoff, h->phentsize, i, &at) != 0)
		return -1;
	if (h->bits == 64) {
		Elf64_Phdr x;
		if (rd(ctx, at, &x, sizeof(x)) != 0)
			return -1;
		*p = (struct elf_phdr){x.p_type, x.p_offset, x.p_vaddr};
	} else {
		Elf32_Phdr x;
		if (rd(ctx, at, &x, sizeof(x)) != 0)
			return -1;
		*p = (struct elf_phdr){x.p_type, x.p_offset, x.p_vaddr};
	}
	return 0;
}

static int elf_read_shdr(ipcx__elf_read_fn rd, void *ctx,
                         const struct elf_hdr *h, unsigned i,
                         struct elf_shdr *s)
{
	uint64_t at;

	if (elf_entry_off(h->shoff, h->shentsize, i, &at) != 0)
		return -1;
	if (h->bits == 64) {
		Elf64_Shdr x;
		if (rd(ctx, at, &x, sizeof(x)) != 0)
			return -1;
		*s = (struct elf_shdr){x.sh_name, x.sh_type, x.sh_addr,
		                       x.sh_offset, x.sh_size};
	} else {
		Elf32_Shdr x;
		if (rd(ctx, at, &x, sizeof(x)) != 0)
			return -1;
		*s = (struct elf_shdr){x.sh_name, x.sh_type, x.sh_addr,
		                       x.sh_offset, x.sh_size};
	}
	return 0;
}

/*
 * The load address the link-time addresses are relative to: the lowest
 * PT_LOAD's p_vaddr - p_offset, rounded down to a page. The kernel maps
 * file offset 0 there (plus the bias), which is how maps.c finds the bias.
 */
static int elf_load_base(ipcx__elf_read_fn rd, void *ctx,
                         const struct elf_hdr *h, struct ipcx__elf *e)
{
	struct elf_phdr p;
	unsigned i, n = h->phnum;

	if (n > ELF_MAX_HDRS)
		n = ELF_MAX_HDRS;
	for (i = 0; i < n; i++) {
		uint64_t base;
		if (elf_read_phdr(rd, ctx, h, i, &p) != 0)
			return elf_bad("truncated program headers");
		if (p.type != PT_LOAD)
			continue;
		base = (p.vaddr - p.offset) & ~(uint64_t)4095;
		if (!e->has_load || base < e->load_vaddr)
			e->load_vaddr = base;
		e->has_load = true;
	}
	return 0;
}

/* The section headers, matched by name through the name table. */
static int elf_sections(ipcx__elf_read_fn rd, void *ctx,
                        const struct elf_hdr *h, struct ipcx__elf *e)
{
	struct elf_shdr s, strs;
	char *tab;
	unsigned i, k, n = h->shnum;
	int r = 0;

	if (n == 0)
		return elf_bad("no section headers (stripped of them?)");
	if (h->shstrndx >= n ||
	    elf_read_shdr(rd, ctx, h, h->shstrndx, &strs) != 0)
		return elf_bad("no section name table");
	if (strs.size == 0 || strs.size > ELF_MAX_STRTAB)
		return elf_bad("section name table of a bad size");
	/* One NUL more than the file gives, so every name ends. */
	tab = calloc(1, strs.size + 1);
	if (tab == NULL)
		return ipcx__err(IPCX_ENOMEM, "ELF name table: out of memory");
	if (rd(ctx, strs.offset, tab, strs.size) != 0) {
		free(tab);
		return elf_bad("truncated section name table");
	}
	for (i = 0; i < n; i++) {
		if (elf_read_shdr(rd, ctx, h, i, &s) != 0) {
			r = elf_bad("truncated section headers");
			break;
		}
		if (s.name >= strs.size || s.addr == 0)
			continue;
		for (k = 0; k < IPCX__SEC_COUNT; k++) {
			if (e->sec[k].present ||
			    strcmp(tab + s.name, elf_sec_names[k]) != 0)
				continue;
			/* A hostile size may not wrap the address space. */
			if (s.size > UINT64_MAX - s.addr)
				continue;
			e->sec[k] =
			    (struct ipcx__elf_sec){s.addr, s.size, true};
		}
	}
	free(tab);
	return r;
}

int ipcx__elf_parse(ipcx__elf_read_fn rd, void *ctx, struct ipcx__elf *e)
{
	struct elf_hdr h = {0};
	int r;

	memset(e, 0, sizeof(*e));
	r = elf_read_hdr(rd, ctx, &h);
	if (r != 0)
		return r;
	e->bits = h.bits;
	e->type = h.type;
	e->machine = h.machine;
	r = elf_load_base(rd, ctx, &h, e);
	if (r != 0)
		return r;
	return elf_sections(rd, ctx, &h, e);
}

struct elf_mem {
	const unsigned char *p;
	size_t len;
};

static int elf_mem_read(void *ctx, uint64_t off, void *dst, size_t n)
{
	const struct elf_mem *m = ctx;

	if (off > m->len || n > m->len - off)
		return -1;
	memcpy(dst, m->p + off, n);
	return 0;
}

int ipcx__elf_parse_mem(const void *buf, size_t len, struct ipcx__elf *e)
{
	struct elf_mem m = {buf, len};

	return ipcx__elf_parse(elf_mem_read, &m, e);
}

static int elf_fd_read(void *ctx, uint64_t off, void *dst, size_t n)
{
	int fd = *(int *)ctx;
	size_t got = 0;

	if (off > (uint64_t)INT64_MAX - n)
		return -1;
	while (got < n) {
		ssize_t k =
		    pread(fd, (char *)dst + got, n - got, (off_t)(off + got));
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			return -1;
		got += (size_t)k;
	}
	return 0;
}

int ipcx__elf_parse_fd(int fd, struct ipcx__elf *e)
{
	return ipcx__elf_parse(elf_fd_read, &fd, e);
}
