//! Interning tables: the string table and the list pool, each handing out one id per
//! distinct value in first-use order.

use foldhash::HashMap;

use zerocopy::little_endian::U32;

use super::{WriteError, to_u32};

#[derive(Default)]
pub(super) struct Strings {
    pub(super) map: HashMap<Box<str>, u32>,
    pub(super) offsets: Vec<U32>,
    pub(super) bytes: Vec<u8>,
}

impl Strings {
    pub(super) fn new() -> Strings {
        let mut s = Strings::default();
        s.offsets.push(U32::new(0));
        s.offsets.push(U32::new(0));
        s.map.insert("".into(), 0);
        s
    }

    pub(super) fn id(&mut self, s: &str) -> Result<u32, WriteError> {
        if let Some(&id) = self.map.get(s) {
            return Ok(id);
        }
        let id = to_u32(self.offsets.len() - 1, "string count")?;
        self.bytes.extend_from_slice(s.as_bytes());
        self.offsets
            .push(U32::new(to_u32(self.bytes.len(), "string table")?));
        self.map.insert(s.into(), id);
        Ok(id)
    }

    pub(super) fn opt(&mut self, s: Option<&str>) -> Result<u32, WriteError> {
        s.map_or(Ok(0), |s| self.id(s))
    }

    /// String `id` (which this table handed out).
    pub(super) fn get(&self, id: u32) -> &str {
        let (a, b) = (
            self.offsets[id as usize].get() as usize,
            self.offsets[id as usize + 1].get() as usize,
        );
        std::str::from_utf8(&self.bytes[a..b]).expect("the table holds only &str bytes")
    }
}

#[derive(Default)]
pub(super) struct Lists {
    pub(super) map: HashMap<Vec<u32>, u32>,
    pub(super) offsets: Vec<U32>,
    pub(super) pool: Vec<U32>,
}

impl Lists {
    pub(super) fn new() -> Lists {
        let mut l = Lists::default();
        l.offsets.push(U32::new(0));
        l.offsets.push(U32::new(0));
        l.map.insert(Vec::new(), 0);
        l
    }

    pub(super) fn id(&mut self, items: Vec<u32>) -> Result<u32, WriteError> {
        if let Some(&id) = self.map.get(&items) {
            return Ok(id);
        }
        let id = to_u32(self.offsets.len() - 1, "list count")?;
        self.pool.extend(items.iter().map(|v| U32::new(*v)));
        self.offsets
            .push(U32::new(to_u32(self.pool.len(), "list pool")?));
        self.map.insert(items, id);
        Ok(id)
    }
}
