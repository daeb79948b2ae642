//! The end of a build: the hash shards, then the sections laid out behind the header.

use sha2::{Digest, Sha256};
use zerocopy::IntoBytes;
use zerocopy::little_endian::{I64, U32, U64};

use super::{BuildOptions, WriteError, WriteStats, Writer, Written, default_shard_count, to_u32};
use crate::layout::{self, Counts, FixedHeader, SectionEntry, SectionKind};

impl Writer {
    /// Lays out the hash shards, then the sections and header: the bytes of a `pinion.db`
    /// file and of its shards.
    pub fn finish(
        mut self,
        index_url: &str,
        last_serial: u64,
        options: &BuildOptions,
    ) -> Result<(Written, WriteStats), WriteError> {
        let count = options
            .shard_count
            .unwrap_or_else(|| default_shard_count(self.projects.len()));
        if !count.is_power_of_two() || count > layout::MAX_SHARDS {
            return Err(WriteError::ShardCount(count));
        }
        let shards = self.shards(count)?;
        self.drop_lookups();
        let manifest: Vec<[u8; 32]> = shards.iter().map(|s| Sha256::digest(s).into()).collect();
        let db = self.assemble(index_url, last_serial, options, &manifest)?;
        Ok((Written { db, shards }, self.stats))
    }

    /// Frees what only adding projects needs (the interning tables' lookup maps) and the
    /// per-file hashes, now in the shards, so that they are not held beside the core while
    /// it is laid out (at 1/10 of PyPI they are hundreds of MB).
    fn drop_lookups(&mut self) {
        self.strings.map = Default::default();
        self.lists.map = Default::default();
        self.reqsets.encoded = Default::default();
        self.reqsets.arena = Vec::new();
        self.metadata_ids = Default::default();
        self.tagset_ids = Default::default();
        self.metadata_by_ptr = Default::default();
        self.files.hashes = Vec::new();
    }

    /// The hash shards (`data-format.md`, *Hash shards*): each project's files' sha256 and
    /// URL digests, in the shard `layout::shard_of` its name falls in.
    pub(super) fn shards(&self, count: u32) -> Result<Vec<Vec<u8>>, WriteError> {
        let mut members: Vec<Vec<usize>> = vec![Vec::new(); count as usize];
        let files = self.files.hashes.len();
        let file_range = |i: usize| {
            let first = self.projects[i].first_file.get() as usize;
            let end = self
                .projects
                .get(i + 1)
                .map_or(files, |p| p.first_file.get() as usize);
            first..end
        };
        for (i, p) in self.projects.iter().enumerate() {
            if !file_range(i).is_empty() {
                let name = self.strings.get(p.name.get());
                members[layout::shard_of(name, count) as usize].push(i);
            }
        }
        let mut out = Vec::with_capacity(count as usize);
        for (index, projects) in members.iter().enumerate() {
            let n_files: usize = projects.iter().map(|&i| file_range(i).len()).sum();
            let mut bytes = Vec::with_capacity(layout::SHARD_HEADER_LEN + 64 * n_files);
            bytes.extend_from_slice(&layout::SHARD_MAGIC);
            for v in [
                layout::FORMAT_VERSION,
                index as u32,
                count,
                to_u32(projects.len(), "projects per shard")?,
                to_u32(n_files, "files per shard")?,
                0,
            ] {
                bytes.extend_from_slice(&v.to_le_bytes());
            }
            for &i in projects {
                let name = self.strings.get(self.projects[i].name.get());
                layout::put_varint(&mut bytes, name.len() as u64);
                bytes.extend_from_slice(name.as_bytes());
                layout::put_varint(&mut bytes, file_range(i).len() as u64);
            }
            for &i in projects {
                bytes.extend_from_slice(self.files.hashes[file_range(i)].as_flattened());
            }
            out.push(bytes);
        }
        Ok(out)
    }

    pub(super) fn assemble(
        &self,
        index_url: &str,
        last_serial: u64,
        options: &BuildOptions,
        manifest: &[[u8; 32]],
    ) -> Result<Vec<u8>, WriteError> {
        let (r, f) = (&self.releases, &self.files);
        let sections: [(SectionKind, &[u8]); 19] = [
            (SectionKind::StrOffsets, self.strings.offsets.as_bytes()),
            (SectionKind::StrBytes, &self.strings.bytes),
            (SectionKind::ListOffsets, self.lists.offsets.as_bytes()),
            (SectionKind::ListPool, self.lists.pool.as_bytes()),
            (SectionKind::Projects, self.projects.as_bytes()),
            (SectionKind::ReleaseVersions, &r.versions),
            (SectionKind::ReleaseTimes, &r.times),
            (SectionKind::FileNames, f.names.as_bytes()),
            (SectionKind::FileFlags, &f.flags),
            (SectionKind::FileTagSets, f.tagsets.as_bytes()),
            (
                SectionKind::FileRequiresPython,
                f.requires_python.as_bytes(),
            ),
            (SectionKind::FileMetadata, f.metadata.as_bytes()),
            (SectionKind::FileYankedReasons, f.yanked_reasons.as_bytes()),
            (SectionKind::FileUrls, f.urls.as_bytes()),
            (SectionKind::TagSets, self.tagsets.as_bytes()),
            (SectionKind::Metadata, self.metadata.as_bytes()),
            (SectionKind::ReqSets, &self.reqsets.blob),
            (SectionKind::ShardManifest, manifest.as_flattened()),
            (SectionKind::MetadataNotes, self.notes.as_bytes()),
        ];
        let url = index_url.as_bytes();
        let table_end = layout::FIXED_HEADER_LEN + sections.len() * layout::SECTION_ENTRY_LEN;
        let header_len = layout::align8(table_end + url.len());
        if header_len > layout::MAX_HEADER_LEN {
            return Err(WriteError::TooLarge("index URL"));
        }
        let mut entries = Vec::with_capacity(sections.len());
        let mut offset = header_len;
        for (kind, bytes) in &sections {
            offset = layout::align8(offset);
            entries.push(SectionEntry {
                kind: U32::new(*kind as u32),
                reserved0: U32::new(0),
                offset: U64::new(offset as u64),
                length: U64::new(bytes.len() as u64),
                crc32: U32::new(crc32fast::hash(bytes)),
                reserved1: U32::new(0),
            });
            offset += bytes.len();
        }
        let count = |n: usize| U32::new(n as u32);
        let header = FixedHeader {
            magic: layout::MAGIC,
            format_version: U32::new(layout::FORMAT_VERSION),
            header_len: U32::new(header_len as u32),
            header_crc32: U32::new(0),
            section_count: U32::new(sections.len() as u32),
            created_at: I64::new(options.created_at),
            last_serial: U64::new(last_serial),
            index_url_len: U32::new(url.len() as u32),
            counts: Counts {
                projects: count(self.projects.len()),
                releases: U32::new(to_u32(
                    usize::try_from(self.releases.count).unwrap_or(usize::MAX),
                    "release count",
                )?),
                files: count(self.files.flags.len()),
                metadata: count(self.metadata.len()),
                requirements: U32::new(to_u32(
                    usize::try_from(self.reqsets.requirements).unwrap_or(usize::MAX),
                    "requirement count",
                )?),
                reqsets: count(self.reqsets.ids.len()),
                lists: count(self.lists.offsets.len() - 1),
                strings: count(self.strings.offsets.len() - 1),
                tagsets: count(self.tagsets.len()),
            },
            reserved: U64::new(0),
        };
        let mut out = vec![0u8; offset];
        out[..layout::FIXED_HEADER_LEN].copy_from_slice(header.as_bytes());
        out[layout::FIXED_HEADER_LEN..table_end].copy_from_slice(entries.as_bytes());
        out[table_end..table_end + url.len()].copy_from_slice(url);
        let crc = crc32fast::hash(&out[..header_len]);
        out[layout::HEADER_CRC_OFFSET..layout::HEADER_CRC_OFFSET + 4]
            .copy_from_slice(&crc.to_le_bytes());
        for ((_, bytes), e) in sections.iter().zip(&entries) {
            let start = e.offset.get() as usize;
            out[start..start + bytes.len()].copy_from_slice(bytes);
        }
        Ok(out)
    }
}
