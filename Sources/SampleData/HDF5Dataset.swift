import CHDF5

/// An open HDF5 dataset: shape, element type, chunking, and typed reads of all or part of it.
public final class HDF5Dataset: @unchecked Sendable {
    /// The file the dataset belongs to (kept open while the dataset lives).
    public let file: HDF5File
    /// The dataset's absolute path inside the file.
    public let path: String
    /// The extent of every dimension ([] for a scalar).
    public let shape: [Int]
    /// The stored element type.
    public let elementType: HDF5ElementType
    /// The chunk extent of every dimension, or nil for contiguous and compact layouts.
    public let chunkShape: [Int]?
    let id: hid_t

    /// Opens `path` in `file`.
    init(file: HDF5File, path: String) throws(DataError) {
        self.file = file
        self.path = path.hasPrefix("/") ? path : "/" + path
        let site = file.site(self.path)
        HDF5Library.lock()
        defer { HDF5Library.unlock() }
        guard try file.linkExists(self.path) else { throw site.error("missing dataset") }
        let dapl = try h5check(H5Pcreate(alv_h5p_dataset_access()), site, "opening the dataset")
        defer { _ = H5Pclose(dapl) }
        // A 32 MiB chunk cache so that row-batched reads decompress each chunk once.
        try h5check(H5Pset_chunk_cache(dapl, 12_421, 32 << 20, 1.0), site, "setting the chunk cache")
        let object = H5Oopen(file.id, self.path, HDF5Library.defaultPlist)
        try h5check(object, site, "opening the dataset")
        let isDataset = H5Iget_type(object) == H5I_DATASET
        _ = H5Oclose(object)
        guard isDataset else { throw site.error("is not a dataset") }
        let id = try h5check(H5Dopen2(file.id, self.path, dapl), site, "opening the dataset")
        var shape: [Int] = []
        var type = HDF5ElementType.other("unknown")
        var chunks: [Int]? = nil
        do throws(DataError) {
            let space = try h5check(H5Dget_space(id), site, "reading the dataspace")
            defer { _ = H5Sclose(space) }
            let rank = Int(try h5check(H5Sget_simple_extent_ndims(space), site, "reading the dataspace"))
            guard rank <= 32 else { throw site.error("rank \(rank) is not supported") }
            var dims = [hsize_t](repeating: 0, count: max(rank, 1))
            try h5check(H5Sget_simple_extent_dims(space, &dims, nil), site, "reading the dataspace")
            for d in dims.prefix(rank) {
                guard d <= hsize_t(Int.max) else { throw site.error("dimension \(d) is too large") }
                shape.append(Int(d))
            }
            let fileType = try h5check(H5Dget_type(id), site, "reading the datatype")
            type = HDF5ElementType.classify(fileType)
            _ = H5Tclose(fileType)
            let dcpl = try h5check(H5Dget_create_plist(id), site, "reading the layout")
            defer { _ = H5Pclose(dcpl) }
            if H5Pget_layout(dcpl) == H5D_CHUNKED, rank > 0 {
                var chunkDims = [hsize_t](repeating: 0, count: rank)
                if H5Pget_chunk(dcpl, Int32(rank), &chunkDims) == Int32(rank) {
                    chunks = chunkDims.map { Int(clamping: $0) }
                }
            }
        } catch {
            _ = H5Dclose(id)
            throw error
        }
        self.id = id
        self.shape = shape
        self.elementType = type
        self.chunkShape = chunks
    }

    deinit {
        HDF5Library.locked { _ = H5Dclose(id); _ = H5Eclear2(alv_h5e_default()) }
    }

    /// The site for errors about this dataset.
    var site: HDF5Site { file.site(path) }

    /// The number of dimensions.
    public var rank: Int { shape.count }

    /// The number of elements (nil when the product overflows).
    public var elementCount: Int? { ShapeMath.elementCount(shape) }

    /// The shape written as `[N, H, W]`.
    public var shapeDescription: String { "[" + shape.map(String.init).joined(separator: ", ") + "]" }

    /// Fails unless the stored type is `expected`.
    public func require(type expected: HDF5ElementType) throws(DataError) {
        guard elementType == expected else {
            throw site.error("expected \(expected), found \(elementType)")
        }
    }

    /// Fails unless the rank is one of `ranks`.
    public func require(rank ranks: Int...) throws(DataError) {
        guard ranks.contains(rank) else {
            let wanted = ranks.map(String.init).joined(separator: " or ")
            throw site.error("expected rank \(wanted), found rank \(rank) with shape \(shapeDescription)")
        }
    }

    /// Reads the whole dataset, flattened in row-major order; the stored type must be `T`.
    public func read<T: HDF5Scalar>(as type: T.Type = T.self) throws(DataError) -> [T] {
        try read(start: [Int](repeating: 0, count: rank), count: shape)
    }

    /// Reads rows `rows` along the first dimension, flattened; the stored type must be `T`.
    public func readRows<T: HDF5Scalar>(_ rows: Range<Int>, as type: T.Type = T.self) throws(DataError) -> [T] {
        guard rank >= 1 else { throw site.error("cannot read rows of a scalar") }
        var start = [Int](repeating: 0, count: rank)
        var count = shape
        start[0] = rows.lowerBound
        count[0] = rows.count
        if let direct: [T] = try readRowsDirect(rows) { return direct }
        return try read(start: start, count: count)
    }

    /// Reads the hyperslab at `start` of extent `count`, flattened; the stored type must be `T`.
    public func read<T: HDF5Scalar>(start: [Int], count: [Int], as type: T.Type = T.self) throws(DataError) -> [T] {
        try require(type: T.hdf5Type)
        try checkSelection(start: start, count: count)
        let n = try ShapeMath.checkAllocation(count, elementSize: MemoryLayout<T>.stride, site) / MemoryLayout<T>.stride
        if n == 0 { return [] }
        var failure: DataError? = nil
        let result = [T](unsafeUninitializedCapacity: n) { buffer, initialized in
            do throws(DataError) {
                guard let base = buffer.baseAddress else { throw site.error("cannot allocate \(n) elements") }
                try readUnchecked(start: start, count: count, memType: T.hdf5Type, into: UnsafeMutableRawPointer(base))
                initialized = n
            } catch {
                failure = error
                initialized = 0
            }
        }
        if let failure { throw failure }
        return result
    }

    /// Reads the hyperslab at `start` of extent `count` into `buffer`, which must hold exactly that many elements.
    public func read<T: HDF5Scalar>(start: [Int], count: [Int], into buffer: UnsafeMutableBufferPointer<T>) throws(DataError) {
        try require(type: T.hdf5Type)
        try checkSelection(start: start, count: count)
        guard let n = ShapeMath.elementCount(count), n == buffer.count else {
            throw site.error("buffer of \(buffer.count) elements does not match the selection")
        }
        guard n > 0, let base = buffer.baseAddress else { return }
        try readUnchecked(start: start, count: count, memType: T.hdf5Type, into: UnsafeMutableRawPointer(base))
    }

    /// Reads every element as strings (fixed- or variable-length); rank must be 0 or 1.
    public func readStrings() throws(DataError) -> [String] {
        guard elementType.isString else { throw site.error("expected strings, found \(elementType)") }
        guard rank <= 1 else { throw site.error("expected a 1-d string array, found shape \(shapeDescription)") }
        let count = rank == 0 ? 1 : shape[0]
        HDF5Library.lock()
        defer { HDF5Library.unlock() }
        let fileType = try h5check(H5Dget_type(id), site, "reading the datatype")
        defer { _ = H5Tclose(fileType) }
        let space = try h5check(H5Dget_space(id), site, "reading the dataspace")
        defer { _ = H5Sclose(space) }
        let datasetID = id
        return try HDF5Strings.read(fileType: fileType, count: count, space: space, file: file, site, "reading strings") {
            memType, buffer in
            H5Dread(datasetID, memType, alv_h5s_all(), alv_h5s_all(), HDF5Library.defaultPlist, buffer)
        }
    }

    /// The names of this dataset's attributes.
    public func attributeNames() throws(DataError) -> [String] {
        HDF5Library.lock()
        defer { HDF5Library.unlock() }
        return try HDF5Attributes.names(object: id, site)
    }

    /// The string attribute `name`, nil when absent.
    public func stringAttribute(_ name: String) throws(DataError) -> String? {
        HDF5Library.lock()
        defer { HDF5Library.unlock() }
        return try HDF5Attributes.readString(object: id, name: name, file: file, site)
    }

    /// The integer attribute `name`, nil when absent.
    public func integerAttribute(_ name: String) throws(DataError) -> Int64? {
        HDF5Library.lock()
        defer { HDF5Library.unlock() }
        return try HDF5Attributes.readInteger(object: id, name: name, site)
    }

    func checkSelection(start: [Int], count: [Int]) throws(DataError) {
        guard start.count == rank, count.count == rank else {
            throw site.error("selection of rank \(start.count) does not match rank \(rank)")
        }
        for axis in 0..<rank {
            let (end, overflow) = start[axis].addingReportingOverflow(count[axis])
            guard start[axis] >= 0, count[axis] >= 0, !overflow, end <= shape[axis] else {
                throw site.error("selection \(start[axis])..<\(start[axis] &+ count[axis]) is outside dimension \(axis) of \(shapeDescription)")
            }
        }
    }

    /// One H5Dread of a checked selection into memory of `memType`'s native layout.
    private func readUnchecked(start: [Int], count: [Int], memType: HDF5ElementType, into base: UnsafeMutableRawPointer) throws(DataError) {
        guard let nativeType = memType.nativeTypeID else { throw site.error("cannot read \(memType) as numbers") }
        HDF5Library.lock()
        defer { HDF5Library.unlock() }
        if rank == 0 || start.allSatisfy({ $0 == 0 }) && count == shape {
            let status = H5Dread(id, nativeType, alv_h5s_all(), alv_h5s_all(), HDF5Library.defaultPlist, base)
            try h5check(status, site, "reading \(shapeDescription) \(elementType)")
            return
        }
        let fileSpace = try h5check(H5Dget_space(id), site, "reading the dataspace")
        defer { _ = H5Sclose(fileSpace) }
        let h5start = start.map { hsize_t($0) }
        let h5count = count.map { hsize_t($0) }
        try h5check(H5Sselect_hyperslab(fileSpace, H5S_SELECT_SET, h5start, nil, h5count, nil), site, "selecting a hyperslab")
        let memSpace = try h5check(H5Screate_simple(Int32(rank), h5count, nil), site, "creating a memory dataspace")
        defer { _ = H5Sclose(memSpace) }
        let status = H5Dread(id, nativeType, memSpace, fileSpace, HDF5Library.defaultPlist, base)
        try h5check(status, site, "reading rows \(start[0])..<\(start[0] + count[0])")
    }
}
