/*
 * test-elf.c - the bounded ELF reader (src/inspect/elf.c): this test's own
 * executable (each variable in its section once the load bias is added),
 * a synthetic 32-bit and 64-bit file, every truncation of them, a non-ELF
 * file, and hostile counts, offsets and sizes.
 */
#include "t.h"

#include "ipcx.h"
#include "../../src/inspect/inspect.h"

#include <elf.h>
#include <fcntl.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

static const char rodata_var[] = "rodata";
int data_var = 7;
static volatile int bss_var;
/* The first byte the linker placed (GNU ld and lld define it). */
extern const char __executable_start[];

static bool in(const struct ipcx__elf *e, enum ipcx__sec s, uintptr_t bias,
               const volatile void *p)
{
	uintptr_t a = (uintptr_t)p - bias;

	return e->sec[s].present && a >= e->sec[s].addr &&
	       a < e->sec[s].addr + e->sec[s].size;
}

static void own_executable(void)
{
	struct ipcx__elf e;
	uintptr_t bias;
	int fd = open("/proc/self/exe", O_RDONLY | O_CLOEXEC);

	T_ASSERT(fd >= 0);
	T_OK(ipcx__elf_parse_fd(fd, &e));
	close(fd);
	T_ASSERT(e.bits == (int)sizeof(void *) * 8 && e.has_load);
	T_ASSERT(e.type == ET_DYN || e.type == ET_EXEC);
	bias = (uintptr_t)__executable_start - e.load_vaddr;
	T_ASSERT(in(&e, IPCX__SEC_TEXT, bias, (const void *)&own_executable));
	T_ASSERT(in(&e, IPCX__SEC_RODATA, bias, rodata_var));
	T_ASSERT(in(&e, IPCX__SEC_DATA, bias, &data_var));
	T_ASSERT(in(&e, IPCX__SEC_BSS, bias, &bss_var));
	T_ASSERT(!in(&e, IPCX__SEC_DATA, bias, &bss_var));
	T_ASSERT(strcmp(ipcx__sec_name(IPCX__SEC_BSS), ".bss") == 0);
}

/*
 * A minimal file: header, one PT_LOAD, sections null/.text/.data/.bss/
 * .shstrtab, then the name table. Returns its length.
 */
static const char names[] = "\0.text\0.data\0.bss\0.shstrtab";

static size_t make64(unsigned char *b)
{
	Elf64_Ehdr *h = (Elf64_Ehdr *)b;
	Elf64_Phdr *p = (Elf64_Phdr *)(b + sizeof(*h));
	Elf64_Shdr *s = (Elf64_Shdr *)(b + sizeof(*h) + sizeof(*p));
	size_t strs = sizeof(*h) + sizeof(*p) + 5 * sizeof(*s);

	memset(b, 0, strs + sizeof(names));
	memcpy(h->e_ident, ELFMAG, SELFMAG);
	h->e_ident[EI_CLASS] = ELFCLASS64;
	h->e_ident[EI_DATA] = ELFDATA2LSB;
	h->e_type = ET_DYN;
	h->e_machine = EM_X86_64;
	h->e_phoff = sizeof(*h);
	h->e_phentsize = sizeof(*p);
	h->e_phnum = 1;
	h->e_shoff = sizeof(*h) + sizeof(*p);
	h->e_shentsize = sizeof(*s);
	h->e_shnum = 5;
	h->e_shstrndx = 4;
	p->p_type = PT_LOAD;
	p->p_vaddr = 0x400000;
	s[1] = (Elf64_Shdr){.sh_name = 1, .sh_addr = 0x401000, .sh_size = 16};
	s[2] = (Elf64_Shdr){.sh_name = 7, .sh_addr = 0x402000, .sh_size = 8};
	s[3] = (Elf64_Shdr){.sh_name = 13, .sh_addr = 0x402008, .sh_size = 8};
	s[4] = (Elf64_Shdr){
	    .sh_name = 18, .sh_offset = strs, .sh_size = sizeof(names)};
	memcpy(b + strs, names, sizeof(names));
	return strs + sizeof(names);
}

static size_t make32(unsigned char *b)
{
	Elf32_Ehdr *h = (Elf32_Ehdr *)b;
	Elf32_Phdr *p = (Elf32_Phdr *)(b + sizeof(*h));
	Elf32_Shdr *s = (Elf32_Shdr *)(b + sizeof(*h) + sizeof(*p));
	size_t strs = sizeof(*h) + sizeof(*p) + 5 * sizeof(*s);

	memset(b, 0, strs + sizeof(names));
	memcpy(h->e_ident, ELFMAG, SELFMAG);
	h->e_ident[EI_CLASS] = ELFCLASS32;
	h->e_ident[EI_DATA] = ELFDATA2LSB;
	h->e_type = ET_EXEC;
	h->e_machine = EM_386;
	h->e_phoff = sizeof(*h);
	h->e_phentsize = sizeof(*p);
	h->e_phnum = 1;
	h->e_shoff = sizeof(*h) + sizeof(*p);
	h->e_shentsize = sizeof(*s);
	h->e_shnum = 5;
	h->e_shstrndx = 4;
	p->p_type = PT_LOAD;
	p->p_vaddr = 0x8048000;
	s[1] = (Elf32_Shdr){.sh_name = 1, .sh_addr = 0x8049000, .sh_size = 4};
	s[2] = (Elf32_Shdr){.sh_name = 7, .sh_addr = 0x804a000, .sh_size = 4};
	s[3] = (Elf32_Shdr){.sh_name = 13, .sh_addr = 0x804a004, .sh_size = 4};
	s[4] = (Elf32_Shdr){
	    .sh_name = 18, .sh_offset = strs, .sh_size = sizeof(names)};
	memcpy(b + strs, names, sizeof(names));
	return strs + sizeof(names);
}

static void synthetic(void)
{
	unsigned char b[1024];
	struct ipcx__elf e;
	size_t len, cut;

	len = make64(b);
	T_OK(ipcx__elf_parse_mem(b, len, &e));
	T_ASSERT(e.bits == 64 && e.load_vaddr == 0x400000 && e.has_load);
	T_ASSERT(e.sec[IPCX__SEC_TEXT].addr == 0x401000);
	T_ASSERT(e.sec[IPCX__SEC_BSS].addr == 0x402008);
	T_ASSERT(!e.sec[IPCX__SEC_RODATA].present);
	/* Every truncation fails cleanly (ASan watches the reads). */
	for (cut = 0; cut < len; cut++)
		T_EXPECT(ipcx__elf_parse_mem(b, cut, &e), IPCX_ECORRUPT);

	len = make32(b);
	T_OK(ipcx__elf_parse_mem(b, len, &e));
	T_ASSERT(e.bits == 32 && e.machine == EM_386);
	T_ASSERT(e.load_vaddr == 0x8048000);
	T_ASSERT(e.sec[IPCX__SEC_DATA].addr == 0x804a000);
	for (cut = 0; cut < len; cut++)
		T_EXPECT(ipcx__elf_parse_mem(b, cut, &e), IPCX_ECORRUPT);
}

static void hostile(void)
{
	unsigned char b[1024];
	Elf64_Ehdr *h = (Elf64_Ehdr *)b;
	Elf64_Shdr *s;
	struct ipcx__elf e;
	size_t len;

	T_EXPECT(ipcx__elf_parse_mem("#!/bin/sh\n", 10, &e), IPCX_ECORRUPT);
	T_ASSERT(strstr(ipcx_errmsg(), "not an ELF file") != NULL);
	len = make64(b);
	h->e_shoff = UINT64_MAX - 8; /* wraps */
	T_EXPECT(ipcx__elf_parse_mem(b, len, &e), IPCX_ECORRUPT);
	len = make64(b);
	h->e_shstrndx = 9; /* past e_shnum */
	T_EXPECT(ipcx__elf_parse_mem(b, len, &e), IPCX_ECORRUPT);
	len = make64(b);
	h->e_shentsize = 4; /* smaller than a header */
	T_EXPECT(ipcx__elf_parse_mem(b, len, &e), IPCX_ECORRUPT);
	len = make64(b);
	h->e_ident[EI_CLASS] = 7;
	T_EXPECT(ipcx__elf_parse_mem(b, len, &e), IPCX_ECORRUPT);
	/* A name table of 4 GiB is refused before any allocation. */
	len = make64(b);
	s = (Elf64_Shdr *)(b + h->e_shoff);
	s[4].sh_size = 1ull << 32;
	T_EXPECT(ipcx__elf_parse_mem(b, len, &e), IPCX_ECORRUPT);
	/* A name offset past the table is skipped, not read. */
	len = make64(b);
	s[1].sh_name = 5000;
	s[2].sh_size = UINT64_MAX; /* would wrap: ignored */
	T_OK(ipcx__elf_parse_mem(b, len, &e));
	T_ASSERT(!e.sec[IPCX__SEC_TEXT].present);
	T_ASSERT(!e.sec[IPCX__SEC_DATA].present);
	T_ASSERT(e.sec[IPCX__SEC_BSS].present);
}

int main(void)
{
	own_executable();
	synthetic();
	hostile();
	return T_EXIT_PASS;
}
