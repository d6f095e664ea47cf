/*
 * Test tooling for running Windows builds under wine (scripts/other-systems.sh), never
 * shipped: Rust's std on Windows takes its random numbers from ProcessPrng in
 * bcryptprimitives.dll, which Windows 10 and 11 have and Debian 12's wine (8.0) lacks.
 * This DLL supplies that one function from RtlGenRandom (advapi32's SystemFunction036),
 * which wine has. It is put into the wine prefix's system32, not next to the programs.
 */
#include <windows.h>

BOOLEAN WINAPI SystemFunction036(PVOID buffer, ULONG length);

__declspec(dllexport) BOOL WINAPI ProcessPrng(PBYTE data, SIZE_T length)
{
    while (length > 0) {
        ULONG n = length > 0x10000000 ? 0x10000000 : (ULONG)length;
        if (!SystemFunction036(data, n)) {
            return FALSE;
        }
        data += n;
        length -= n;
    }
    return TRUE;
}
