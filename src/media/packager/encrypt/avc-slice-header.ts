/**
 * The length of an H.264 slice header (ITU-T H.264 §7.3.3), so that subsample encryption keeps exactly the
 * header clear. Reads the SPS and PPS of the track's `avcC` for the fields the header's layout depends on.
 * Returns undefined for what it does not follow (an unknown PPS id, slice groups, a header running past
 * what it reads); the caller then keeps its conservative leader clear.
 */

interface Sps {
  separateColourPlane: boolean;
  chromaArrayType: number;
  log2MaxFrameNum: number;
  picOrderCntType: number;
  log2MaxPocLsb: number;
  deltaPicOrderAlwaysZero: boolean;
  frameMbsOnly: boolean;
}

interface Pps {
  sps: Sps;
  entropyCodingMode: boolean;
  bottomFieldPicOrderInFramePresent: boolean;
  numRefIdxL0Default: number;
  numRefIdxL1Default: number;
  weightedPred: boolean;
  weightedBipredIdc: number;
  deblockingFilterControlPresent: boolean;
  redundantPicCntPresent: boolean;
}

export type AvcParameterSets = Map<number, Pps>;

/** Past this many NAL bytes a slice header is not looked for (a real one is far shorter). */
const MAX_HEADER_SCAN = 1024;
const HIGH_PROFILES = new Set([100, 110, 122, 244, 44, 83, 86, 118, 128, 138, 139, 134, 135]);

class OutOfData extends Error {}

/** An Exp-Golomb bit reader over a NAL unit's RBSP: emulation prevention bytes are skipped as it goes. */
class BitReader {
  /** RBSP bits read so far. */
  bit = 0;
  /** The NAL byte holding the last bit read. */
  byteIndex = -1;
  #next = 0;
  #current = 0;
  #left = 0;
  #zeros = 0;

  constructor(
    private readonly nal: Uint8Array,
    private readonly limit: number,
  ) {}

  #bit(): number {
    if (this.#left === 0) {
      let b = this.#load();
      if (this.#zeros >= 2 && b === 3) {
        this.#zeros = 0;
        b = this.#load();
      }
      this.#zeros = b === 0 ? this.#zeros + 1 : 0;
      this.#current = b;
      this.#left = 8;
      this.byteIndex = this.#next - 1;
    }
    this.#left--;
    this.bit++;
    return (this.#current >> this.#left) & 1;
  }

  #load(): number {
    if (this.#next >= this.limit || this.#next >= this.nal.byteLength) throw new OutOfData();
    return this.nal[this.#next++];
  }

  u(bits: number): number {
    let v = 0;
    for (let i = 0; i < bits; i++) v = v * 2 + this.#bit();
    return v;
  }

  flag(): boolean {
    return this.u(1) === 1;
  }

  ue(): number {
    let zeros = 0;
    while (this.u(1) === 0) {
      if (++zeros > 31) throw new OutOfData();
    }
    return zeros === 0 ? 0 : 2 ** zeros - 1 + this.u(zeros);
  }

  se(): number {
    const k = this.ue();
    return k % 2 === 1 ? (k + 1) / 2 : -(k / 2);
  }
}

function skipScalingList(r: BitReader, size: number): void {
  let last = 8;
  let next = 8;
  for (let j = 0; j < size; j++) {
    if (next !== 0) next = (last + r.se() + 256) % 256;
    last = next === 0 ? last : next;
  }
}

function parseSps(nal: Uint8Array): [number, Sps] {
  const r = new BitReader(nal, nal.byteLength);
  r.u(8); // NAL header
  const profile = r.u(8);
  r.u(16); // constraint flags, level
  const id = r.ue();
  let chromaFormatIdc = 1;
  let separateColourPlane = false;
  if (HIGH_PROFILES.has(profile)) {
    chromaFormatIdc = r.ue();
    if (chromaFormatIdc === 3) separateColourPlane = r.flag();
    r.ue(); // bit_depth_luma_minus8
    r.ue(); // bit_depth_chroma_minus8
    r.u(1); // qpprime_y_zero_transform_bypass_flag
    if (r.flag()) {
      for (let i = 0; i < (chromaFormatIdc !== 3 ? 8 : 12); i++) if (r.flag()) skipScalingList(r, i < 6 ? 16 : 64);
    }
  }
  const log2MaxFrameNum = r.ue() + 4;
  const picOrderCntType = r.ue();
  let log2MaxPocLsb = 0;
  let deltaPicOrderAlwaysZero = false;
  if (picOrderCntType === 0) log2MaxPocLsb = r.ue() + 4;
  else if (picOrderCntType === 1) {
    deltaPicOrderAlwaysZero = r.flag();
    r.se();
    r.se();
    const n = r.ue();
    for (let i = 0; i < n; i++) r.se();
  }
  r.ue(); // max_num_ref_frames
  r.u(1); // gaps_in_frame_num_value_allowed_flag
  r.ue(); // pic_width_in_mbs_minus1
  r.ue(); // pic_height_in_map_units_minus1
  const frameMbsOnly = r.flag();
  const chromaArrayType = separateColourPlane ? 0 : chromaFormatIdc;
  return [id, { separateColourPlane, chromaArrayType, log2MaxFrameNum, picOrderCntType, log2MaxPocLsb, deltaPicOrderAlwaysZero, frameMbsOnly }];
}

function parsePps(nal: Uint8Array, spsById: Map<number, Sps>): [number, Pps] | undefined {
  const r = new BitReader(nal, nal.byteLength);
  r.u(8);
  const id = r.ue();
  const sps = spsById.get(r.ue());
  if (!sps) return undefined;
  const entropyCodingMode = r.flag();
  const bottomFieldPicOrderInFramePresent = r.flag();
  if (r.ue() !== 0) return undefined; // slice groups (FMO): not followed
  const numRefIdxL0Default = r.ue() + 1;
  const numRefIdxL1Default = r.ue() + 1;
  const weightedPred = r.flag();
  const weightedBipredIdc = r.u(2);
  r.se(); // pic_init_qp_minus26
  r.se(); // pic_init_qs_minus26
  r.se(); // chroma_qp_index_offset
  const deblockingFilterControlPresent = r.flag();
  r.u(1); // constrained_intra_pred_flag
  const redundantPicCntPresent = r.flag();
  return [
    id,
    {
      sps,
      entropyCodingMode,
      bottomFieldPicOrderInFramePresent,
      numRefIdxL0Default,
      numRefIdxL1Default,
      weightedPred,
      weightedBipredIdc,
      deblockingFilterControlPresent,
      redundantPicCntPresent,
    },
  ];
}

/** The PPSs (with their SPS) of an `avcC` payload; sets it cannot read are left out. */
export function readAvcParameterSets(avcC: Uint8Array): AvcParameterSets {
  const out: AvcParameterSets = new Map();
  const spsById = new Map<number, Sps>();
  try {
    let at = 5;
    const spsCount = avcC[at++] & 0x1f;
    for (let i = 0; i < spsCount; i++) {
      const length = (avcC[at] << 8) | avcC[at + 1];
      const [id, sps] = parseSps(avcC.subarray(at + 2, at + 2 + length));
      spsById.set(id, sps);
      at += 2 + length;
    }
    const ppsCount = avcC[at++];
    for (let i = 0; i < ppsCount; i++) {
      const length = (avcC[at] << 8) | avcC[at + 1];
      const pps = parsePps(avcC.subarray(at + 2, at + 2 + length), spsById);
      if (pps) out.set(pps[0], pps[1]);
      at += 2 + length;
    }
  } catch (err) {
    if (!(err instanceof OutOfData)) throw err;
  }
  return out;
}

export interface SliceHeaderLength {
  /** Bits of the RBSP up to the end of the slice header, NAL header included (what `trace_headers` counts). */
  bits: number;
  /** Bytes of the NAL unit (emulation prevention included) that hold the header. */
  bytes: number;
}

/** The slice header length of a VCL NAL unit (`nal` starts at its header byte), or undefined. */
export function avcSliceHeaderLength(nal: Uint8Array, sets: AvcParameterSets): SliceHeaderLength | undefined {
  const r = new BitReader(nal, MAX_HEADER_SCAN);
  try {
    const header = r.u(8);
    const nalRefIdc = (header >> 5) & 3;
    const isIdr = (header & 0x1f) === 5;
    r.ue(); // first_mb_in_slice
    const sliceType = r.ue() % 5; // 0 P, 1 B, 2 I, 3 SP, 4 SI
    const pps = sets.get(r.ue());
    if (!pps) return undefined;
    const sps = pps.sps;
    const isP = sliceType === 0 || sliceType === 3;
    const isB = sliceType === 1;
    if (sps.separateColourPlane) r.u(2);
    r.u(sps.log2MaxFrameNum);
    let fieldPic = false;
    if (!sps.frameMbsOnly) {
      fieldPic = r.flag();
      if (fieldPic) r.u(1);
    }
    if (isIdr) r.ue();
    if (sps.picOrderCntType === 0) {
      r.u(sps.log2MaxPocLsb);
      if (pps.bottomFieldPicOrderInFramePresent && !fieldPic) r.se();
    }
    if (sps.picOrderCntType === 1 && !sps.deltaPicOrderAlwaysZero) {
      r.se();
      if (pps.bottomFieldPicOrderInFramePresent && !fieldPic) r.se();
    }
    if (pps.redundantPicCntPresent) r.ue();
    if (isB) r.u(1); // direct_spatial_mv_pred_flag
    let l0 = pps.numRefIdxL0Default;
    let l1 = pps.numRefIdxL1Default;
    if (isP || isB) {
      if (r.flag()) {
        l0 = r.ue() + 1;
        if (isB) l1 = r.ue() + 1;
      }
    }
    // ref_pic_list_modification (§7.3.3.1)
    const modification = () => {
      if (!r.flag()) return;
      for (;;) {
        const idc = r.ue();
        if (idc === 3) return;
        if (idc > 5) throw new OutOfData();
        r.ue();
      }
    };
    if (sliceType !== 2 && sliceType !== 4) modification();
    if (isB) modification();
    // pred_weight_table (§7.3.3.2)
    if ((pps.weightedPred && isP) || (pps.weightedBipredIdc === 1 && isB)) {
      r.ue();
      if (sps.chromaArrayType !== 0) r.ue();
      const weights = (count: number) => {
        for (let i = 0; i < count; i++) {
          if (r.flag()) {
            r.se();
            r.se();
          }
          if (sps.chromaArrayType !== 0 && r.flag()) for (let j = 0; j < 4; j++) r.se();
        }
      };
      weights(l0);
      if (isB) weights(l1);
    }
    // dec_ref_pic_marking (§7.3.3.3)
    if (nalRefIdc !== 0) {
      if (isIdr) r.u(2);
      else if (r.flag()) {
        for (;;) {
          const op = r.ue();
          if (op === 0) break;
          if (op > 6) throw new OutOfData();
          if (op === 1 || op === 3) r.ue();
          if (op === 2) r.ue();
          if (op === 3 || op === 6) r.ue();
          if (op === 4) r.ue();
        }
      }
    }
    if (pps.entropyCodingMode && sliceType !== 2 && sliceType !== 4) r.ue(); // cabac_init_idc
    r.se(); // slice_qp_delta
    if (sliceType === 3 || sliceType === 4) {
      if (sliceType === 3) r.u(1);
      r.se();
    }
    if (pps.deblockingFilterControlPresent && r.ue() !== 1) {
      r.se();
      r.se();
    }
    return { bits: r.bit, bytes: r.byteIndex + 1 };
  } catch (err) {
    if (err instanceof OutOfData) return undefined;
    throw err;
  }
}
