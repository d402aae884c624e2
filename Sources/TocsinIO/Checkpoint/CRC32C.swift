/// CRC-32C (Castagnoli, reflected polynomial 0x82F63B78), the checksum of checkpoint files.
///
/// Slicing-by-8 in software: eight 256-entry tables, eight bytes per step. Check value:
/// `CRC32C.checksum("123456789".utf8) == 0xE3069283`.
public enum CRC32C {
  private static let tables: [[UInt32]] = {
    var tables = Array(repeating: Array(repeating: UInt32(0), count: 256), count: 8)
    for i in 0..<256 {
      var c = UInt32(i)
      for _ in 0..<8 { c = c & 1 != 0 ? (c >> 1) ^ 0x82F6_3B78 : c >> 1 }
      tables[0][i] = c
    }
    for i in 0..<256 {
      for t in 1..<8 {
        let prev = tables[t - 1][i]
        tables[t][i] = (prev >> 8) ^ tables[0][Int(prev & 0xFF)]
      }
    }
    return tables
  }()

  /// The CRC-32C of `bytes`, continuing from `crc` (the result of a previous call, or 0).
  public static func checksum<C: Collection>(_ bytes: C, continuing crc: UInt32 = 0) -> UInt32
  where C.Element == UInt8 {
    if let result = bytes.withContiguousStorageIfAvailable({ update(crc, UnsafeRawBufferPointer($0)) }) {
      return result
    }
    return update(crc, Array(bytes))
  }

  private static func update(_ crc: UInt32, _ bytes: [UInt8]) -> UInt32 {
    bytes.withUnsafeBytes { update(crc, $0) }
  }

  private static func update(_ initial: UInt32, _ bytes: UnsafeRawBufferPointer) -> UInt32 {
    var c = ~initial
    var i = 0
    let n = bytes.count
    tables.withUnsafeBufferPointer { t in
      let t0 = t[0], t1 = t[1], t2 = t[2], t3 = t[3], t4 = t[4], t5 = t[5], t6 = t[6], t7 = t[7]
      while i + 8 <= n {
        let lo = bytes.loadUnaligned(fromByteOffset: i, as: UInt32.self).littleEndian ^ c
        let hi = bytes.loadUnaligned(fromByteOffset: i + 4, as: UInt32.self).littleEndian
        c = t7[Int(lo & 0xFF)] ^ t6[Int((lo >> 8) & 0xFF)] ^ t5[Int((lo >> 16) & 0xFF)]
          ^ t4[Int(lo >> 24)] ^ t3[Int(hi & 0xFF)] ^ t2[Int((hi >> 8) & 0xFF)]
          ^ t1[Int((hi >> 16) & 0xFF)] ^ t0[Int(hi >> 24)]
        i += 8
      }
      while i < n {
        c = t0[Int((c ^ UInt32(bytes[i])) & 0xFF)] ^ (c >> 8)
        i += 1
      }
    }
    return ~c
  }
}
