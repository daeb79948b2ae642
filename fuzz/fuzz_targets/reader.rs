//! Fuzzes the database reader: open arbitrary bytes, walk everything reachable, verify.
//! Any panic, overflow or hang is a bug; errors are fine.
#![no_main]

use libfuzzer_sys::fuzz_target;
use pinion_db::Database;

fuzz_target!(|data: &[u8]| {
    walk(data.to_vec());
    // Random mutations almost always break the header checksum, which would stop the
    // fuzzer at the front door; retrying with the checksum repaired lets it reach the
    // section parsers and accessors.
    if data.len() >= 20 {
        let mut fixed = data.to_vec();
        fixed[16..20].fill(0);
        let len = u32::from_le_bytes([fixed[12], fixed[13], fixed[14], fixed[15]]) as usize;
        if len <= fixed.len() {
            let crc = crc32fast::hash(&fixed[..len]);
            fixed[16..20].copy_from_slice(&crc.to_le_bytes());
            walk(fixed);
        }
    }
});

fn walk(bytes: Vec<u8>) {
    let Ok(db) = Database::from_bytes(bytes) else { return };
    let _ = db.info();
    for p in db.projects() {
        let _ = (p.name(), p.display_name());
        let _ = db.project(p.display_name());
        for r in p.releases() {
            let _ = (r.version_str(), r.version(), r.upload_time(), r.yanked(), r.yanked_reason());
            for f in r.files() {
                let _ = (f.filename(), f.url(), f.sha256(), f.size(), f.kind(), f.requires_python());
                let _ = (f.python_tags().count(), f.abi_tags().count(), f.platform_tags().count());
                let m = f.metadata();
                let _ = (m.requires_python(), m.build_backend(), m.has_build_system(), m.provides_extra().count());
                for set in [m.requires_dist(), m.build_requires(), m.setup_requires()] {
                    let _ = (set.known(), set.source());
                    for req in set.iter() {
                        let _ = (req.name(), req.extras().count(), req.specifiers().count(), req.marker());
                        let _ = req.to_pep508_string();
                    }
                }
            }
        }
    }
    let _ = db.verify();
}
