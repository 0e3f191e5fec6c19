//! Which partition holds a person: PostgreSQL's own hash partitioning, computed here too.
//!
//! Every table that holds a person's rows is partitioned `BY HASH` on its person column
//! with the same modulus, so that partition *n* of every table can live on one server
//! (docs/sharding.md). The tables do not all name the person the same way: the events and
//! the sealed fields carry the ledger's key (`bigint`), the kept readings and the vault the
//! person's id (`text`). PostgreSQL hashes the two types differently, so the ledger's key of
//! a new person is chosen such that both land in the same partition: the next free key whose
//! hash falls where the id's does ([`key_for`]). The importer needs no round trip for it, and
//! the direct import path knows each row's partition without asking the coordinator.
//!
//! The hash functions are PostgreSQL's (`hashint8extended`, `hashtextextended` for a
//! deterministic collation, Bob Jenkins' lookup3 underneath, combined with the partitioning
//! seed as `compute_partition_hash_value` does). They are written out here because no crate
//! offers them; a test holds them to the server's own results.

/// `HASH_PARTITION_SEED` (src/include/catalog/partition.h).
const SEED: u64 = 0x7A5B_2236_7996_DCFD;

fn mix(a: &mut u32, b: &mut u32, c: &mut u32) {
    *a = a.wrapping_sub(*c);
    *a ^= c.rotate_left(4);
    *c = c.wrapping_add(*b);
    *b = b.wrapping_sub(*a);
    *b ^= a.rotate_left(6);
    *a = a.wrapping_add(*c);
    *c = c.wrapping_sub(*b);
    *c ^= b.rotate_left(8);
    *b = b.wrapping_add(*a);
    *a = a.wrapping_sub(*c);
    *a ^= c.rotate_left(16);
    *c = c.wrapping_add(*b);
    *b = b.wrapping_sub(*a);
    *b ^= a.rotate_left(19);
    *a = a.wrapping_add(*c);
    *c = c.wrapping_sub(*b);
    *c ^= b.rotate_left(4);
    *b = b.wrapping_add(*a);
}

fn finish(a: &mut u32, b: &mut u32, c: &mut u32) {
    *c ^= *b;
    *c = c.wrapping_sub(b.rotate_left(14));
    *a ^= *c;
    *a = a.wrapping_sub(c.rotate_left(11));
    *b ^= *a;
    *b = b.wrapping_sub(a.rotate_left(25));
    *c ^= *b;
    *c = c.wrapping_sub(b.rotate_left(16));
    *a ^= *c;
    *a = a.wrapping_sub(c.rotate_left(4));
    *b ^= *a;
    *b = b.wrapping_sub(a.rotate_left(14));
    *c ^= *b;
    *c = c.wrapping_sub(b.rotate_left(24));
}

fn seeded(len: u32, seed: u64) -> (u32, u32, u32) {
    let init = 0x9e37_79b9u32.wrapping_add(len).wrapping_add(3_923_095);
    let (mut a, mut b, mut c) = (init, init, init);
    if seed != 0 {
        a = a.wrapping_add((seed >> 32) as u32);
        b = b.wrapping_add(seed as u32);
        mix(&mut a, &mut b, &mut c);
    }
    (a, b, c)
}

fn word(k: &[u8]) -> u32 {
    let mut w = [0u8; 4];
    w[..k.len()].copy_from_slice(k);
    u32::from_le_bytes(w)
}

/// `hash_bytes_extended` (src/common/hashfn.c), little-endian as on every server we meet.
fn hash_bytes(mut k: &[u8], seed: u64) -> u64 {
    let (mut a, mut b, mut c) = seeded(k.len() as u32, seed);
    while k.len() >= 12 {
        a = a.wrapping_add(word(&k[0..4]));
        b = b.wrapping_add(word(&k[4..8]));
        c = c.wrapping_add(word(&k[8..12]));
        mix(&mut a, &mut b, &mut c);
        k = &k[12..];
    }
    // The last 11 bytes; the lowest byte of c is reserved for the length.
    let n = k.len();
    a = a.wrapping_add(word(&k[..n.min(4)]));
    if n > 4 {
        b = b.wrapping_add(word(&k[4..n.min(8)]));
    }
    if n > 8 {
        c = c.wrapping_add(word(&k[8..n]) << 8);
    }
    finish(&mut a, &mut b, &mut c);
    ((b as u64) << 32) | c as u64
}

/// `hash_bytes_uint32_extended`.
fn hash_u32(k: u32, seed: u64) -> u64 {
    let (mut a, mut b, mut c) = seeded(4, seed);
    a = a.wrapping_add(k);
    finish(&mut a, &mut b, &mut c);
    ((b as u64) << 32) | c as u64
}

/// `hashint8extended`.
fn hash_int8(v: i64, seed: u64) -> u64 {
    let lo = v as u32;
    let hi = (v >> 32) as u32;
    hash_u32(if v >= 0 { lo ^ hi } else { lo ^ !hi }, seed)
}

/// `hash_combine64(0, h)`: how a one-column partition key's hash is finished.
fn row_hash(h: u64) -> u64 {
    h.wrapping_add(0x49a0_f4dd_15e5_a8e3)
}

/// The partition (remainder) a person's id falls in, among `count`.
pub fn of_id(id: &str, count: u32) -> u32 {
    (row_hash(hash_bytes(id.as_bytes(), SEED)) % count as u64) as u32
}

/// The partition a ledger key falls in, among `count`.
pub fn of_key(pk: i64, count: u32) -> u32 {
    (row_hash(hash_int8(pk, SEED)) % count as u64) as u32
}

/// The smallest ledger key above `after` that falls in the same partition as `id`.
pub fn key_for(id: &str, after: i64, count: u32) -> i64 {
    let want = of_id(id, count);
    let mut pk = after + 1;
    while of_key(pk, count) != want {
        pk += 1;
    }
    pk
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Values read off PostgreSQL 15: `SELECT hashtextextended(…, 8816678312871386365)` and
    /// `hashint8extended`.
    #[test]
    fn the_hashes_are_postgresqls_own() {
        assert_eq!(hash_bytes(b"P-000001", SEED) as i64, -7912219151492620364);
        assert_eq!(hash_bytes(b"", SEED) as i64, -5700645584453517373);
        assert_eq!(
            hash_bytes("Müller-0123456789xyz".as_bytes(), SEED) as i64,
            -810784710757142504
        );
        assert_eq!(hash_int8(5, SEED) as i64, -2840406021921404358);
        assert_eq!(hash_int8(-7, SEED) as i64, -7298374200968567817);
    }

    #[test]
    fn a_new_persons_key_falls_where_their_id_does() {
        let mut after = 0;
        for i in 0..500 {
            let id = format!("person-{i}");
            let pk = key_for(&id, after, 64);
            assert!(pk > after);
            assert_eq!(of_key(pk, 64), of_id(&id, 64));
            after = pk;
        }
        // About 64 keys apart on average: keys stay far from running out.
        assert!(after < 500 * 64 * 3, "{after}");
    }
}
