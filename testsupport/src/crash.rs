//! A storage wrapper for crash-consistency testing: it records every write and persist, and
//! can rebuild the media as it would be after a power loss at any persistence point.
//!
//! Model: a write is volatile until a [`Storage::persist`] covering it completes. At a crash,
//! every durable byte survives; each volatile write may be lost entirely, survive entirely,
//! or be torn: only some of its aligned 8-byte words land (the x86 persistence guarantee is
//! per aligned 8-byte store, nothing larger).
//!
//! ```
//! use ndctl_testsupport::crash::{Loss, RecordingStorage};
//! use ndctl::btt_engine::Storage;
//! let rec = RecordingStorage::new(vec![0; 64]);
//! rec.write_at(0, &[1; 16]).unwrap();
//! rec.persist(0, 8).unwrap(); // only the first word is made durable
//! let mut replay = rec.replay();
//! let point = replay.next_point().unwrap();
//! assert_eq!(replay.image(Loss::DropAll)[..16], [0; 16]);
//! assert!(replay.next_point().is_none());
//! assert_eq!(replay.image(Loss::DropAll)[..16], [[1u8; 8], [0; 8]].concat()[..]);
//! # let _ = point;
//! ```

use std::io;
use std::sync::{Mutex, PoisonError, RwLock};

use ndctl::btt_engine::Storage;

/// One recorded operation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Event {
    /// Bytes written (volatile until persisted).
    Write {
        /// Storage offset.
        offset: u64,
        /// The bytes.
        data: Vec<u8>,
    },
    /// A persist call.
    Persist {
        /// Start of the range.
        offset: u64,
        /// Length of the range.
        len: u64,
    },
    /// A marker the test inserted (e.g. "write N acknowledged").
    Mark(u64),
}

/// In-memory storage that logs everything done to it.
#[derive(Debug)]
pub struct RecordingStorage {
    initial: Vec<u8>,
    current: RwLock<Vec<u8>>,
    events: Mutex<Vec<Event>>,
}

impl RecordingStorage {
    /// Start from `image`, taken to be fully durable.
    pub fn new(image: Vec<u8>) -> RecordingStorage {
        RecordingStorage {
            current: RwLock::new(image.clone()),
            initial: image,
            events: Mutex::new(Vec::new()),
        }
    }

    /// Insert a marker into the event log.
    pub fn mark(&self, tag: u64) {
        self.events
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(Event::Mark(tag));
    }

    /// The events so far.
    pub fn events(&self) -> Vec<Event> {
        self.events
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// What a reader sees now (durable or not).
    pub fn current(&self) -> Vec<u8> {
        self.current
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Forget the log and take the current contents as durable.
    pub fn reset(&mut self) {
        let cur = self.current();
        self.initial = cur;
        self.events
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clear();
    }

    /// Walk the recorded history persistence point by persistence point.
    pub fn replay(&self) -> Replay {
        Replay {
            durable: self.initial.clone(),
            pending: Vec::new(),
            events: self.events(),
            pos: 0,
            marks: Vec::new(),
            at_persist: false,
        }
    }
}

fn range(offset: u64, len: usize, size: usize) -> io::Result<std::ops::Range<usize>> {
    let start =
        usize::try_from(offset).map_err(|_| io::Error::from(io::ErrorKind::InvalidInput))?;
    match start.checked_add(len) {
        Some(end) if end <= size => Ok(start..end),
        _ => Err(io::Error::from(io::ErrorKind::UnexpectedEof)),
    }
}

impl Storage for RecordingStorage {
    fn size(&self) -> u64 {
        self.initial.len() as u64
    }
    fn read_at(&self, offset: u64, buf: &mut [u8]) -> io::Result<()> {
        let cur = self.current.read().unwrap_or_else(PoisonError::into_inner);
        let r = range(offset, buf.len(), cur.len())?;
        buf.copy_from_slice(&cur[r]);
        Ok(())
    }
    fn write_at(&self, offset: u64, buf: &[u8]) -> io::Result<()> {
        // Log under the data lock so the log order is the order the writes took effect.
        let mut cur = self.current.write().unwrap_or_else(PoisonError::into_inner);
        let r = range(offset, buf.len(), cur.len())?;
        cur[r].copy_from_slice(buf);
        self.events
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(Event::Write {
                offset,
                data: buf.to_vec(),
            });
        Ok(())
    }
    fn persist(&self, offset: u64, len: u64) -> io::Result<()> {
        let _cur = self.current.write().unwrap_or_else(PoisonError::into_inner);
        self.events
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(Event::Persist { offset, len });
        Ok(())
    }
}

/// What happens to volatile writes at a simulated crash.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Loss {
    /// All volatile writes are lost.
    DropAll,
    /// All volatile writes happen to have reached media.
    KeepAll,
    /// Each aligned 8-byte word of each volatile write independently lands or not, chosen by
    /// this seed.
    Tear(u64),
}

/// Iterator over the persistence points of a recording; see [`RecordingStorage::replay`].
#[derive(Debug)]
pub struct Replay {
    durable: Vec<u8>,
    pending: Vec<(u64, Vec<u8>)>,
    events: Vec<Event>,
    pos: usize,
    marks: Vec<u64>,
    at_persist: bool,
}

/// A persistence point reached by [`Replay::next_point`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CrashPoint {
    /// Index of the persist event in the recording.
    pub event: usize,
    /// Every marker recorded before this point.
    pub marks: Vec<u64>,
    /// Number of volatile writes that a crash here could lose or tear.
    pub volatile_writes: usize,
}

fn splitmix(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

impl Replay {
    /// Advance to the next persist call and stop just before it takes effect: the state a
    /// crash "during" that persist leaves. Returns `None` at the end of the recording, after
    /// which [`Replay::image`] shows the state at the end (volatile writes still pending).
    pub fn next_point(&mut self) -> Option<CrashPoint> {
        // Complete the persist we stopped at last time.
        if self.at_persist {
            if let Some(Event::Persist { offset, len }) = self.events.get(self.pos).cloned() {
                self.apply_persist(offset, len);
            }
            self.pos += 1;
            self.at_persist = false;
        }
        while let Some(ev) = self.events.get(self.pos).cloned() {
            match ev {
                Event::Write { offset, data } => self.pending.push((offset, data)),
                Event::Mark(m) => self.marks.push(m),
                Event::Persist { .. } => {
                    self.at_persist = true;
                    return Some(CrashPoint {
                        event: self.pos,
                        marks: self.marks.clone(),
                        volatile_writes: self.pending.len(),
                    });
                }
            }
            self.pos += 1;
        }
        None
    }

    fn apply_persist(&mut self, offset: u64, len: u64) {
        let end = offset.saturating_add(len);
        let mut still = Vec::new();
        for (o, d) in std::mem::take(&mut self.pending) {
            let de = o + d.len() as u64;
            let lo = o.max(offset);
            let hi = de.min(end);
            if lo >= hi {
                still.push((o, d));
                continue;
            }
            // The overlapping part becomes durable; the rest stays volatile.
            let a = (lo - o) as usize;
            let b = (hi - o) as usize;
            self.durable[lo as usize..hi as usize].copy_from_slice(&d[a..b]);
            if a > 0 {
                still.push((o, d[..a].to_vec()));
            }
            if b < d.len() {
                still.push((hi, d[b..].to_vec()));
            }
        }
        self.pending = still;
    }

    /// The media after a crash at the current point with the given fate of volatile writes.
    pub fn image(&self, loss: Loss) -> Vec<u8> {
        let mut img = self.durable.clone();
        let mut rng = match loss {
            Loss::Tear(seed) => seed,
            _ => 0,
        };
        for (o, d) in &self.pending {
            match loss {
                Loss::DropAll => {}
                Loss::KeepAll => {
                    img[*o as usize..*o as usize + d.len()].copy_from_slice(d);
                }
                Loss::Tear(_) => {
                    // Split at aligned 8-byte boundaries; each piece lands or not.
                    let mut pos = *o;
                    let end = o + d.len() as u64;
                    while pos < end {
                        let next = ((pos / 8) + 1) * 8;
                        let piece_end = next.min(end);
                        if splitmix(&mut rng) & 1 == 1 {
                            let a = (pos - o) as usize;
                            let b = (piece_end - o) as usize;
                            img[pos as usize..piece_end as usize].copy_from_slice(&d[a..b]);
                        }
                        pos = piece_end;
                    }
                }
            }
        }
        img
    }
}
