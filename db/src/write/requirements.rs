//! Metadata records and requirement sets: requirements are parsed once and stored
//! pre-encoded (varints), sets and records deduplicated.

use std::ops::Range;
use std::sync::Arc;

use zerocopy::IntoBytes;
use zerocopy::little_endian::U32;

use super::{WriteError, Writer, to_u32};
use crate::layout::{self, MetadataRec, NoteRec};
use crate::model;

/// Longest LEB128 varint of a u64.
const MAX_VARINT_LEN: usize = 10;

impl Writer {
    pub(super) fn metadata(&mut self, m: Option<&Arc<model::Metadata>>) -> Result<u32, WriteError> {
        let ptr = m.map_or(0, |m| Arc::as_ptr(m) as usize);
        if let Some(&id) = self.metadata_by_ptr.get(&ptr) {
            return Ok(id);
        }
        let default = model::Metadata::default();
        let m: &model::Metadata = m.map_or(&default, |m| m);
        let mut unparsed = Vec::new();
        let (rd, rd_src) = self.reqset(&m.requires_dist, &mut unparsed)?;
        let dist_partial = !unparsed.is_empty();
        let before = unparsed.len();
        let (br, br_src) = self.reqset(&m.build_requires, &mut unparsed)?;
        let build_partial = unparsed.len() > before;
        let before = unparsed.len();
        let (sr, sr_src) = self.reqset(&m.setup_requires, &mut unparsed)?;
        let setup_partial = unparsed.len() > before;
        let unparsed_ids = unparsed
            .iter()
            .map(|r| self.strings.id(r))
            .collect::<Result<Vec<_>, _>>()?;
        let note_unparsed = self.lists.id(unparsed_ids)?;
        let note_reason = if rd_src == 0 {
            self.strings.opt(m.unknown_reason.as_deref())?
        } else {
            0
        };
        let flags = [
            (m.has_build_system, layout::META_HAS_BUILD_SYSTEM),
            (dist_partial, layout::META_PARTIAL_DIST),
            (build_partial, layout::META_PARTIAL_BUILD),
            (setup_partial, layout::META_PARTIAL_SETUP),
        ]
        .iter()
        .filter(|(on, _)| *on)
        .fold(0, |acc, (_, bit)| acc | bit);
        let mut extras = Vec::new();
        for e in &m.provides_extra {
            match e.parse::<pep508_rs::ExtraName>() {
                Ok(e) => extras.push(e.to_string()),
                Err(_) => self.stats.bad_extras += 1,
            }
        }
        extras.sort();
        extras.dedup();
        let extra_ids = extras
            .iter()
            .map(|e| self.strings.id(e))
            .collect::<Result<Vec<_>, _>>()?;
        let rec = MetadataRec {
            requires_dist: U32::new(rd),
            build_requires: U32::new(br),
            setup_requires: U32::new(sr),
            requires_dist_source: U32::new(rd_src),
            build_requires_source: U32::new(br_src),
            setup_requires_source: U32::new(sr_src),
            provides_extra: U32::new(self.lists.id(extra_ids)?),
            requires_python: U32::new(self.strings.opt(m.requires_python.as_deref())?),
            build_backend: U32::new(self.strings.opt(m.build_backend.as_deref())?),
            flags: U32::new(flags),
        };
        let mut key = rec.as_bytes().to_vec();
        key.extend_from_slice(&note_reason.to_le_bytes());
        key.extend_from_slice(&note_unparsed.to_le_bytes());
        let id = match self.metadata_ids.get(&key) {
            Some(&id) => id,
            None => {
                let id = to_u32(self.metadata.len(), "metadata count")?;
                self.metadata_ids.insert(key, id);
                self.metadata.push(rec);
                if flags & layout::META_PARTIAL != 0 {
                    self.stats.partial_metadata += 1;
                }
                if note_reason != 0 || note_unparsed != 0 {
                    self.notes.push(NoteRec {
                        metadata: U32::new(id),
                        reason: U32::new(note_reason),
                        unparsed: U32::new(note_unparsed),
                    });
                }
                id
            }
        };
        self.metadata_by_ptr.insert(ptr, id);
        Ok(id)
    }

    /// (set offset, source string id). An unknown set is stored as (0, 0) whatever it holds.
    /// Requirements that do not parse (the crawl state's, and canonical strings the encoder
    /// cannot take) are appended to `unparsed`.
    pub(super) fn reqset(
        &mut self,
        set: &model::ReqSet,
        unparsed: &mut Vec<String>,
    ) -> Result<(u32, u32), WriteError> {
        let Some(source) = set.source.as_deref().filter(|s| !s.is_empty()) else {
            return Ok((0, 0));
        };
        let source = self.strings.id(source)?;
        // The set is encoded in `scratch` behind room for its count's varint, so that a set
        // seen before (most are) costs no allocation.
        let mut scratch = std::mem::take(&mut self.reqsets.scratch);
        scratch.clear();
        scratch.resize(MAX_VARINT_LEN, 0);
        let mut n = 0u64;
        for r in &set.requirements {
            match self.requirement(r)? {
                Some(range) => {
                    scratch.extend_from_slice(&self.reqsets.arena[range]);
                    n += 1;
                }
                None => unparsed.push(r.clone()),
            }
        }
        self.stats.bad_requirements += set.unparsed.len() as u64;
        unparsed.extend(set.unparsed.iter().cloned());
        let mut count = Vec::with_capacity(MAX_VARINT_LEN);
        layout::put_varint(&mut count, n);
        let start = MAX_VARINT_LEN - count.len();
        scratch[start..MAX_VARINT_LEN].copy_from_slice(&count);
        let encoded = &scratch[start..];
        let offset = match self.reqsets.ids.get(encoded) {
            Some(&offset) => offset,
            None => {
                let offset = to_u32(self.reqsets.blob.len(), "requirement set blob")?;
                self.reqsets.blob.extend_from_slice(encoded);
                self.reqsets.requirements += n;
                self.reqsets.ids.insert(encoded.into(), offset);
                offset
            }
        };
        self.reqsets.scratch = scratch;
        Ok((offset, source))
    }

    /// Where `canonical`'s encoding is in the arena (`None`: it does not parse).
    pub(super) fn requirement(
        &mut self,
        canonical: &str,
    ) -> Result<Option<Range<usize>>, WriteError> {
        if let Some(range) = self.reqsets.encoded.get(canonical) {
            if range.is_none() {
                self.stats.bad_requirements += 1;
            }
            return Ok(range.clone());
        }
        let range = match pinion_pep::parse_requirement(canonical) {
            Err(_) => {
                self.stats.bad_requirements += 1;
                None
            }
            Ok(req) => {
                let bytes = self.encode_requirement(&req)?;
                let start = self.reqsets.arena.len();
                self.reqsets.arena.extend_from_slice(&bytes);
                Some(start..self.reqsets.arena.len())
            }
        };
        self.reqsets.encoded.insert(canonical.into(), range.clone());
        Ok(range)
    }

    pub(super) fn encode_requirement(
        &mut self,
        req: &pep508_rs::Requirement<pep508_rs::VerbatimUrl>,
    ) -> Result<Vec<u8>, WriteError> {
        let mut extras: Vec<String> = req.extras.iter().map(ToString::to_string).collect();
        extras.sort();
        extras.dedup();
        let specs: Vec<(u32, String)> = match &req.version_or_url {
            Some(pep508_rs::VersionOrUrl::VersionSpecifier(vs)) => vs
                .iter()
                .map(|s| {
                    (
                        layout::operator_code(*s.operator()),
                        s.version().to_string(),
                    )
                })
                .collect(),
            _ => Vec::new(),
        };
        let marker = self.strings.opt(req.marker.try_to_string().as_deref())?;
        let mut out = Vec::new();
        layout::put_varint(&mut out, u64::from(self.strings.id(req.name.as_ref())?));
        let head = (specs.len() as u64) << layout::REQ_SPECS_SHIFT
            | if extras.is_empty() {
                0
            } else {
                layout::REQ_HAS_EXTRAS
            }
            | if marker == 0 {
                0
            } else {
                layout::REQ_HAS_MARKER
            };
        layout::put_varint(&mut out, head);
        if !extras.is_empty() {
            layout::put_varint(&mut out, extras.len() as u64);
        }
        for e in &extras {
            layout::put_varint(&mut out, u64::from(self.strings.id(e)?));
        }
        for (code, version) in &specs {
            out.push(*code as u8);
            layout::put_varint(&mut out, version.len() as u64);
            out.extend_from_slice(version.as_bytes());
        }
        if marker != 0 {
            layout::put_varint(&mut out, u64::from(marker));
        }
        Ok(out)
    }
}
