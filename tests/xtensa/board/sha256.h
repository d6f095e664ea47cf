// sha256.h: SHA-256 for the test board (sha256.c).
#ifndef SQN_XTENSA_BOARD_SHA256_H
#define SQN_XTENSA_BOARD_SHA256_H

#include <stddef.h>
#include <stdint.h>

typedef struct board_sha256 {
    uint32_t h[8];
    uint32_t bytes; // images are far below 4 GiB
    uint8_t buf[64];
    uint32_t fill;
} board_sha256_t;

void board_sha256_init(board_sha256_t *s);
void board_sha256_update(board_sha256_t *s, const uint8_t *data, size_t len);
// The digest of what was added so far (the state stays usable).
void board_sha256_final(const board_sha256_t *s, uint8_t out[32]);

#endif // SQN_XTENSA_BOARD_SHA256_H
