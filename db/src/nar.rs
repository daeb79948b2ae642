//! Nix's NAR serialization of a directory of regular files, hashed: the "NAR hash" that
//! `builtins.fetchTarball { url; sha256; }` and `nix hash path` pin an unpacked tree by.
//! dbgen computes it for the published tarball's tree so the pin can be written without Nix.
//!
//! A NAR is a sequence of strings, each a `u64` little-endian length, the bytes, and zero
//! padding to a multiple of 8 (Eelco Dolstra's thesis, fig. 5.2; Nix's `src/libutil/archive.cc`):
//! `nix-archive-1 ( type directory entry ( name N node ( type regular contents C ) ) ... )`,
//! entries sorted by name. Only non-executable regular files are written here: that is all
//! the tarball holds (mode 0644).

use sha2::{Digest, Sha256};

fn put(hasher: &mut Sha256, s: &[u8]) {
    hasher.update((s.len() as u64).to_le_bytes());
    hasher.update(s);
    let pad = (8 - s.len() % 8) % 8;
    hasher.update(&[0u8; 8][..pad]);
}

/// The sha256 of the NAR of a directory holding `files` (name, contents) as non-executable
/// regular files. Names must be distinct, non-empty and free of `/`.
pub fn directory_sha256(files: &[(&str, &[u8])]) -> [u8; 32] {
    let mut sorted: Vec<&(&str, &[u8])> = files.iter().collect();
    sorted.sort_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()));
    let mut h = Sha256::new();
    for s in ["nix-archive-1", "(", "type", "directory"] {
        put(&mut h, s.as_bytes());
    }
    for (name, contents) in sorted {
        for s in ["entry", "(", "name"] {
            put(&mut h, s.as_bytes());
        }
        put(&mut h, name.as_bytes());
        for s in ["node", "(", "type", "regular", "contents"] {
            put(&mut h, s.as_bytes());
        }
        put(&mut h, contents);
        put(&mut h, b")");
        put(&mut h, b")");
    }
    put(&mut h, b")");
    h.finalize().into()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::layout::hex_lower;

    /// Values printed by `nix hash path --base16` (Nix 2.8) for directories written with
    /// these files; `db/tests/nar_nix.rs` checks the same against the `nix` binary itself.
    #[test]
    fn matches_nix_hash_path() {
        let files: [(&str, &[u8]); 2] = [("pinion.db", b"hello\n"), ("manifest.json", b"{}\n")];
        assert_eq!(
            hex_lower(&directory_sha256(&files)),
            "72d7c65b0abb27def1ccef3fc89b59cc519ba5607a5677303d8e85c73e7e5743"
        );
    }

    #[test]
    fn order_of_input_does_not_matter_but_content_does() {
        let a: [(&str, &[u8]); 2] = [("b", b"1"), ("a", b"22")];
        let b: [(&str, &[u8]); 2] = [("a", b"22"), ("b", b"1")];
        let c: [(&str, &[u8]); 2] = [("a", b"2"), ("b", b"12")];
        assert_eq!(directory_sha256(&a), directory_sha256(&b));
        assert_ne!(directory_sha256(&a), directory_sha256(&c));
    }
}
