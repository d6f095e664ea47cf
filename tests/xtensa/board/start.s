# start.s: start-up code of the Xtensa test board (QEMU's lx60-nommu machine, de212 core).
#
# Assembled with Debian's llvm-mc-22 (the lx106 assembler rejects windowed instructions),
# linked by GNU ld with tests/xtensa/board/board.ld. What is here is what C cannot say:
# - the vectors (VECBASE 0x60000000, the core's reset value): the six window overflow and
#   underflow handlers of the windowed ABI (the ESP32's), and the exception vectors, which
#   end the run through board_fatal with the cause and the address;
# - _start: the vector base, the stack, PS (window overflow exceptions on), then board_main;
# - the fault path: a fresh window and stack, then board_fatal;
# - small windowed functions for the special instructions: the semihosting call (simcall,
#   encoded by hand: llvm-mc does not know it), the cycle counter, and the spill of every
#   live register window onto the stack (what an interrupt or a task switch does on the
#   ESP32, so that painting the stack counts the windows' save areas too).
#
# The stack frame of the windowed ABI, as the handlers below use it: a frame's a0-a3 are
# saved in the 16 bytes below the stack pointer of its callee; the a4-a7 (call8) or a4-a11
# (call12) of a frame are saved at the bottom of that frame's own area, found from its
# caller's stack pointer, which the save area of the caller holds at offset -12.

	.section .vectors,"ax",@progbits
	.global _vectors
_vectors:

# Frame made by call4: its a0-a3 go below the callee's sp (a5).
	.org 0x000
_WindowOverflow4:
	s32e	a0, a5, -16
	s32e	a1, a5, -12
	s32e	a2, a5, -8
	s32e	a3, a5, -4
	rfwo

	.org 0x040
_WindowUnderflow4:
	l32e	a0, a5, -16
	l32e	a1, a5, -12
	l32e	a2, a5, -8
	l32e	a3, a5, -4
	rfwu

# Frame made by call8: a0-a3 below the callee's sp (a9), a4-a7 at [caller's sp - 32].
	.org 0x080
_WindowOverflow8:
	s32e	a0, a9, -16
	l32e	a0, a1, -12
	s32e	a1, a9, -12
	s32e	a2, a9, -8
	s32e	a3, a9, -4
	s32e	a4, a0, -32
	s32e	a5, a0, -28
	s32e	a6, a0, -24
	s32e	a7, a0, -20
	rfwo

	.org 0x0c0
_WindowUnderflow8:
	l32e	a1, a9, -12
	l32e	a0, a9, -16
	l32e	a7, a1, -12
	l32e	a2, a9, -8
	l32e	a4, a7, -32
	l32e	a3, a9, -4
	l32e	a5, a7, -28
	l32e	a6, a7, -24
	l32e	a7, a7, -20
	rfwu

# Frame made by call12: a0-a3 below the callee's sp (a13), a4-a11 at [caller's sp - 48].
	.org 0x100
_WindowOverflow12:
	s32e	a0, a13, -16
	l32e	a0, a1, -12
	s32e	a1, a13, -12
	s32e	a2, a13, -8
	s32e	a3, a13, -4
	s32e	a4, a0, -48
	s32e	a5, a0, -44
	s32e	a6, a0, -40
	s32e	a7, a0, -36
	s32e	a8, a0, -32
	s32e	a9, a0, -28
	s32e	a10, a0, -24
	s32e	a11, a0, -20
	rfwo

	.org 0x140
_WindowUnderflow12:
	l32e	a1, a13, -12
	l32e	a0, a13, -16
	l32e	a11, a1, -12
	l32e	a2, a13, -8
	l32e	a4, a11, -48
	l32e	a8, a11, -32
	l32e	a3, a13, -4
	l32e	a5, a11, -44
	l32e	a6, a11, -40
	l32e	a7, a11, -36
	l32e	a9, a11, -28
	l32e	a10, a11, -24
	l32e	a11, a11, -20
	rfwu

# Interrupts are enabled only inside board_idle's WAITI, and only the two level-1 ones
# that wake it (the UART's receive interrupt, the CCOMPARE0 timer): the user exception
# vector takes them by masking them again (INTENABLE = 0) and returning. Any other
# interrupt, and every exception, is a fault: board_fatal says which (EXCSAVE1: 0
# exception, 1 double exception, 2 interrupt) with EXCCAUSE, EPC1, EXCVADDR and DEPC.
	.org 0x180
	j	board_fatal_interrupt
	.org 0x1c0
	j	board_fatal_interrupt
	.org 0x200
	j	board_fatal_interrupt
	.org 0x240
	j	board_fatal_interrupt
	.org 0x280
	j	board_fatal_interrupt
	.org 0x2c0
	j	board_fatal_interrupt

	.org 0x300
_KernelExceptionVector:
	j	board_fatal_exception
	.org 0x340
_UserExceptionVector:
	wsr	a0, excsave1
	rsr	a0, exccause
	beqi	a0, 4, 1f		# Level1InterruptCause: board_idle's wake-up
	j	board_fatal_exception
1:	movi	a0, 0
	wsr	a0, intenable
	rsr	a0, excsave1
	rfe
	.org 0x3c0
_DoubleExceptionVector:
	j	board_fatal_double

	.section .literal.start,"ax",@progbits
	.p2align 2
.Lvectors:
	.long	_vectors
.Lstack_top:
	.long	_board_stack_top
.Lps_run:
	# PS: WOE (window overflow exceptions on), UM (user vector mode), INTLEVEL 0, EXCM 0.
	.long	0x00040020
.Lmain:
	.long	board_main
.Lfatal_frame:
	.long	board_fatal_frame
.Lfatal_stack_top:
	.long	_board_fatal_stack_top
.Lfatal_fn:
	.long	board_fatal

	.section .text.start,"ax",@progbits
	.p2align 2
	.global _start
	.type _start,@function
_start:
	# QEMU jumps here from the reset vector: WINDOWBASE 0, PS.EXCM set, interrupts masked.
	# This frame is the oldest: its WINDOWSTART bit marks it, so that the first window
	# overflow spills it (to the top of board_main's frame) before board_main's own.
	l32r	a2, .Lvectors
	wsr	a2, vecbase
	movi	a2, 0
	wsr	a2, intenable
	movi	a2, 1
	wsr	a2, windowstart
	rsync
	# S32C1I (the engine's one atomic flag) as a read-compare-write on every kind of
	# memory: the core's reset value makes it an exception on this RAM.
	movi	a2, 0x15
	wsr	a2, atomctl
	l32r	a1, .Lstack_top
	l32r	a2, .Lps_run
	wsr	a2, ps
	rsync
	movi	a0, 0
	l32r	a2, .Lmain
	callx4	a2
1:	j	1b

# The fault path: a fresh window and stack, then board_fatal() (board.c), which reads
# board_fatal_frame: kind, EXCCAUSE, EPC1, EXCVADDR, DEPC.
	.global board_fatal_exception
	.global board_fatal_double
	.global board_fatal_interrupt
board_fatal_double:
	movi	a0, 1
	j	.Lfatal_common
board_fatal_interrupt:
	movi	a0, 2
	j	.Lfatal_common
board_fatal_exception:
	movi	a0, 0
.Lfatal_common:
	l32r	a7, .Lfatal_frame
	s32i	a0, a7, 0
	rsr	a3, exccause
	s32i	a3, a7, 4
	rsr	a4, epc1
	s32i	a4, a7, 8
	rsr	a5, excvaddr
	s32i	a5, a7, 12
	rsr	a6, depc
	s32i	a6, a7, 16
	movi	a0, 0
	wsr	a0, windowbase
	rsync
	movi	a0, 1
	wsr	a0, windowstart
	l32r	a1, .Lfatal_stack_top
	l32r	a2, .Lps_run
	wsr	a2, ps
	rsync
	movi	a0, 0
	l32r	a2, .Lfatal_fn
	callx4	a2
2:	j	2b

# long board_simcall(long nr, long a, long b, long c, long d):
# QEMU's semihosting: number in a2, arguments in a3..a6, result in a2, errno in a3.
	.section .text.board_simcall,"ax",@progbits
	.p2align 2
	.global board_simcall
	.type board_simcall,@function
board_simcall:
	entry	a1, 16
	.byte	0x00, 0x51, 0x00	# simcall
	retw.n
	.size board_simcall, . - board_simcall

# uint32_t board_ccount(void): the cycle counter.
	.section .text.board_ccount,"ax",@progbits
	.p2align 2
	.global board_ccount
	.type board_ccount,@function
board_ccount:
	entry	a1, 16
	rsr	a2, ccount
	retw.n
	.size board_ccount, . - board_ccount

# void board_idle(uint32_t cycles): sleeps (WAITI) until the modem's UART has a byte or
# `cycles` have passed (CCOMPARE0), as a firmware's idle task would; the caller enables
# the UART's receive interrupt. Under QEMU's -icount the time spent here executes no
# instructions.
	.section .text.board_idle,"ax",@progbits
	.p2align 2
	.global board_idle
	.type board_idle,@function
board_idle:
	entry	a1, 16
	rsil	a5, 1			# level-1 interrupts wait for WAITI, which unmasks them
	rsr	a3, ccount
	add	a3, a3, a2
	wsr	a3, ccompare0		# also clears a pending timer interrupt
	movi	a4, 0x41		# interrupt 0 (external 0: the UART), 6 (timer 0)
	wsr	a4, intenable
	rsync
	waiti	0			# PS.INTLEVEL 0, then sleep; the vector masks them again
	movi	a4, 0
	wsr	a4, intenable
	wsr	a5, ps
	rsync
	retw.n
	.size board_idle, . - board_idle

# uint32_t board_sp(void): the caller's stack pointer (this frame's sp + its 16 bytes).
	.section .text.board_sp,"ax",@progbits
	.p2align 2
	.global board_sp
	.type board_sp,@function
board_sp:
	entry	a1, 16
	addi	a2, a1, 16
	retw.n
	.size board_sp, . - board_sp

# void board_spill_windows(void): writes every live register window of the callers to its
# save area on the stack, as an interrupt or a task switch does on the ESP32. The de212 has
# 32 registers, 8 windows of 4: reached by call8 and rotating 3 more windows per call12,
# this chain turns 11 windows, so every older frame overflows to the stack in turn. It
# costs 4 frames (160 bytes) below its caller's, which painting counts with the rest: the
# figures measured this way are upper bounds.
	.section .text.board_spill_windows,"ax",@progbits
	.p2align 2
	.global board_spill_windows
	.type board_spill_windows,@function
board_spill_windows:
	entry	a1, 48
	call12	.Lspill2
	retw.n
	.p2align 2
.Lspill2:
	entry	a1, 48
	call12	.Lspill3
	retw.n
	.p2align 2
.Lspill3:
	entry	a1, 48
	call12	.Lspill4
	retw.n
	.p2align 2
.Lspill4:
	entry	a1, 16
	retw.n
	.size board_spill_windows, . - board_spill_windows
