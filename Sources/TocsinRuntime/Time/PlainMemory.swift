extension UnsafeMutablePointer {
  /// A new block of room for `capacity` elements holding this block's first `count`, moved
  /// bitwise; this block is freed. For the structures that keep their elements in plain memory
  /// they own (``ReorderBuffer``, ``TimerQueue``) and grow it by doubling.
  func moved(count: Int, toCapacity capacity: Int) -> UnsafeMutablePointer<Pointee> {
    let block = UnsafeMutablePointer<Pointee>.allocate(capacity: capacity)
    block.moveInitialize(from: self, count: count)
    deallocate()
    return block
  }
}
