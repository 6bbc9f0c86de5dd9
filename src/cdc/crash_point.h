/*
 * Deterministic crash points for the kill-and-resume tests: with
 * YB_VOYAGER_CDC_CRASH_AT=NAME:N in the environment, the N-th time the
 * exporter passes point NAME it dies by SIGKILL, exactly as kill -9 would.
 * Points: "write" (events written, not fsynced), "fsync" (fsynced, not
 * recorded in meta.db), "record" (recorded, not yet confirmed to the server),
 * "rotate" (the next segment registered in meta.db, its file not created yet),
 * "end-fsync" (the end-of-stream marker and the last segment's end fsynced, not
 * recorded), "end" (the stream's end recorded, the cutover bookkeeping not done).
 * Without the variable this is a no-op.
 */
#ifndef VOYAGER_CDC_CRASH_POINT_H
#define VOYAGER_CDC_CRASH_POINT_H

void cdc_crash_point(const char *name);

#endif
