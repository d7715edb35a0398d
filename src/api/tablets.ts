/**
 * Fan-out from one request to many Tablets, bounded: how many Tablets'
 * offsets one answer shows, and how many Tablets are asked at once.
 */

/** Buckets whose offsets one answer (describe, the partition list) shows at most: each costs a Tablet call. */
export const describeBucketsMax = 32;
/** Tablets one request asks at once. */
export const tabletCallsInFlightMax = 16;
