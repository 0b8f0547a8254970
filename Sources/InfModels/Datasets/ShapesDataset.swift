// Ten kinds of shape drawn on a noisy gradient with distractor marks: 3×H×W RGB images in
// [-1, 1] for training a teacher CNN and its students. Random colours, contrast, size,
// position, rotation and marks make it too hard for a linear model and hard enough that a
// small CNN trails a bigger one; `difficulty` scales noise, marks and contrast.
//
// Pixels are point-in-shape tests at pixel centres (no antialiasing). Only +, −, ×, ÷ and
// sqrt touch the floats (rotations use a Taylor series, noise a sum of uniforms, not libm's
// sin/cos/log), so a seed gives the same bits on every machine.
import InfCore

public enum ShapesDataset {
    public static let classNames = [
        "disc", "ring", "square", "hollow square", "triangle",
        "plus", "x", "horizontal stripes", "vertical stripes", "diamond",
    ]
    public static let channels = 3

    /// `count` images (count, 3, size, size) of `split`. Image i depends only on
    /// (seed, split, i, size, difficulty): a shorter split is a prefix of a longer one.
    public static func generate(_ split: DataSplit, count: Int, seed: UInt64 = 1, size: Int = 32,
                                difficulty: Float = 1) -> LabelledImages {
        precondition(count >= 0 && size >= 8 && difficulty >= 0,
                     "shapes need count >= 0, size >= 8 and difficulty >= 0 (got \(count), \(size), \(difficulty))")
        let per = channels * size * size
        var storage = [Float](repeating: 0, count: count * per)
        var labels = [Int32](repeating: 0, count: count)
        storage.withUnsafeMutableBufferPointer { out in
            for i in 0..<count {
                var rng = SeededRNG(seed: split.exampleSeed(stream: stream, seed: seed, index: i))
                labels[i] = draw(into: out.baseAddress! + i * per, size: size, difficulty: difficulty, rng: &rng)
            }
        }
        return LabelledImages(images: Tensor(shape: [count, channels, size, size], storage: storage),
                              labels: labels, classNames: classNames)
    }

    /// Keeps this dataset's random numbers apart from other datasets' with the same seed.
    static let stream: UInt64 = 0x5348_4150_4553 // "SHAPES"

    // MARK: One image

    /// Draws one random image into `out` (3, size, size) and returns its class.
    /// Layers, bottom to top: gradient background, marks, the shape, pixel noise.
    static func draw(into out: UnsafeMutablePointer<Float>, size: Int, difficulty: Float,
                     rng: inout SeededRNG) -> Int32 {
        let kind = Kind(rawValue: rng.nextInt(below: classNames.count))!
        let unit = Float(size) / 32 // every length below is in pixels of a 32×32 image
        let half = Float(size) / 2

        let background = randomColour(&rng)
        // A linear ramp per channel along one direction, so brightness is no class cue.
        let ramp = randomDirection(&rng)
        let rampAmplitude = 0.3 * difficulty * rng.nextUnitFloat()
        let slope = (0..<3).map { _ in rampAmplitude * (2 * rng.nextUnitFloat() - 1) / Float(size) }

        // Contrast is a distance in RGB: low enough at times that noise can hide the shape.
        let minContrast = Swift.max(0.05, 0.45 - 0.25 * difficulty)
        let contrast = minContrast + 0.7 * rng.nextUnitFloat()
        let foreground = colour(awayFrom: background, by: contrast, &rng)

        let shape = Shape(kind, size: size, unit: unit, &rng)

        // 1–3 marks at difficulty 1: short strokes or dots, half in the shape's own colour so
        // colour does not segment the shape. Drawn under it, so the shape stays whole.
        let maxMarks = Int((3 * difficulty).rounded())
        let minMarks = Swift.min(1, maxMarks)
        let marks = (0..<(minMarks + rng.nextInt(below: maxMarks - minMarks + 1))).map { _ in
            Mark(size: size, unit: unit, colour: rng.nextUnitFloat() < 0.5 ? foreground : randomColour(&rng), &rng)
        }

        let noise = difficulty * (0.03 + 0.07 * rng.nextUnitFloat())
        let plane = size * size
        for y in 0..<size {
            let py = Float(y) + 0.5
            for x in 0..<size {
                let px = Float(x) + 0.5
                let along = (px - half) * ramp.x + (py - half) * ramp.y
                var c = (background.0 + slope[0] * along, background.1 + slope[1] * along, background.2 + slope[2] * along)
                for m in marks where m.contains(px, py) { c = m.colour }
                if shape.contains(px, py) { c = foreground }
                let o = y * size + x
                out[o] = pixel(c.0, noise, &rng)
                out[plane + o] = pixel(c.1, noise, &rng)
                out[2 * plane + o] = pixel(c.2, noise, &rng)
            }
        }
        return Int32(kind.rawValue)
    }

    /// A [0, 1] intensity plus noise, mapped to [-1, 1].
    @inline(__always)
    static func pixel(_ value: Float, _ noise: Float, _ rng: inout SeededRNG) -> Float {
        // Sum of four 16-bit uniforms: mean 2, variance 1/3, close enough to Gaussian and one
        // draw per value — Box–Muller per pixel would dominate the generation time.
        let r = rng.next()
        let sum = (r & 0xFFFF) + ((r >> 16) & 0xFFFF) + ((r >> 32) & 0xFFFF) + (r >> 48)
        let gaussian = (Float(sum) * (1 / 65536) - 2) * 1.7320508 // ×√3: unit variance
        return Swift.min(1, Swift.max(-1, 2 * (value + noise * gaussian) - 1))
    }

    static func randomColour(_ rng: inout SeededRNG) -> (Float, Float, Float) {
        (rng.nextUnitFloat(), rng.nextUnitFloat(), rng.nextUnitFloat())
    }

    /// A colour at RGB distance `distance` from `base`, inside the unit cube when a few random
    /// directions allow it (else clamped, which only lowers the contrast).
    static func colour(awayFrom base: (Float, Float, Float), by distance: Float,
                       _ rng: inout SeededRNG) -> (Float, Float, Float) {
        var c = base
        for _ in 0..<8 {
            var d: (Float, Float, Float)
            var norm2: Float
            repeat {
                d = (2 * rng.nextUnitFloat() - 1, 2 * rng.nextUnitFloat() - 1, 2 * rng.nextUnitFloat() - 1)
                norm2 = d.0 * d.0 + d.1 * d.1 + d.2 * d.2
            } while norm2 > 1 || norm2 < 1e-4
            let k = distance / norm2.squareRoot()
            c = (base.0 + k * d.0, base.1 + k * d.1, base.2 + k * d.2)
            if c.0 >= 0 && c.0 <= 1 && c.1 >= 0 && c.1 <= 1 && c.2 >= 0 && c.2 <= 1 { return c }
        }
        return (Swift.min(1, Swift.max(0, c.0)), Swift.min(1, Swift.max(0, c.1)), Swift.min(1, Swift.max(0, c.2)))
    }

    /// A uniformly random unit vector (rejection from the unit disc, so no trigonometry).
    static func randomDirection(_ rng: inout SeededRNG) -> (x: Float, y: Float) {
        while true {
            let x = 2 * rng.nextUnitFloat() - 1, y = 2 * rng.nextUnitFloat() - 1
            let r2 = x * x + y * y
            if r2 <= 1 && r2 > 1e-4 {
                let r = r2.squareRoot()
                return (x / r, y / r)
            }
        }
    }

    /// (cos a, sin a) for |a| ≤ π/2 from Taylor series (error < 1e-6): the same bits everywhere.
    static func rotation(degrees: Float) -> (cos: Float, sin: Float) {
        let a = degrees * (Float.pi / 180), a2 = a * a
        let s = a * (1 - a2 / 6 * (1 - a2 / 20 * (1 - a2 / 42 * (1 - a2 / 72 * (1 - a2 / 110)))))
        let c = 1 - a2 / 2 * (1 - a2 / 12 * (1 - a2 / 30 * (1 - a2 / 56 * (1 - a2 / 90 * (1 - a2 / 132)))))
        return (c, s)
    }

    // MARK: Shapes and marks

    enum Kind: Int {
        case disc, ring, square, hollowSquare, triangle, plus, x, horizontalStripes, verticalStripes, diamond
    }

    /// One shape in its own frame: u = ( cos·dx + sin·dy) / half-size,
    ///                               v = (−sin·dx + cos·dy) / half-size,
    /// so the shape spans about [−1, 1]² in (u, v) and v points down the image at rotation 0.
    struct Shape {
        var kind: Kind
        var cx: Float, cy: Float     // centre, pixels
        var cos: Float, sin: Float
        var inverseHalf: Float       // 1 / half-size
        var reach2: Float            // no pixel farther than √reach2 (pixels) from the centre is inside
        var width: Float = 0         // ring / hollow square: wall; plus / x: half bar width; diamond: width ratio
        var barLength: Float = 1     // stripes: half length of a bar
        var band: Float = 1          // stripes: width of one bar (= one gap)

        init(_ kind: Kind, size: Int, unit: Float, _ rng: inout SeededRNG) {
            self.kind = kind
            let half = unit * (4 + 7 * rng.nextUnitFloat()) // half of an 8–22 px size
            inverseHalf = 1 / half
            // Rotations keep classes apart: plus vs x and horizontal vs vertical stripes differ only in angle.
            var extent: Float = 1 // reach in units of `half`
            switch kind {
            case .disc, .ring, .triangle, .square, .hollowSquare:
                // Discs and rings look the same at any angle; free rotation for the rest.
                (cos, sin) = kind == .disc || kind == .ring ? (1, 0) : ShapesDataset.randomDirection(&rng)
                if kind == .ring || kind == .hollowSquare {
                    width = Swift.min(0.55, unit * (1.5 + 2 * rng.nextUnitFloat()) / half)
                }
                if kind == .square || kind == .hollowSquare { extent = Float(2).squareRoot() }
            case .plus, .x:
                let r = ShapesDataset.rotation(degrees: 30 * rng.nextUnitFloat() - 15)
                let s = Float(0.5).squareRoot()
                (cos, sin) = kind == .plus ? r : (s * (r.cos - r.sin), s * (r.sin + r.cos)) // x: +45°
                width = 0.18 + 0.14 * rng.nextUnitFloat()
                extent = (1 + width * width).squareRoot()
            case .horizontalStripes, .verticalStripes:
                let r = ShapesDataset.rotation(degrees: 20 * rng.nextUnitFloat() - 10)
                (cos, sin) = kind == .horizontalStripes ? r : (-r.sin, r.cos) // vertical: +90°
                let bars = half < 7 * unit ? 3 : 3 + rng.nextInt(below: 2)
                band = 2 / Float(2 * bars - 1)
                barLength = 0.8 + 0.3 * rng.nextUnitFloat()
                extent = (1 + barLength * barLength).squareRoot()
            case .diamond:
                (cos, sin) = ShapesDataset.rotation(degrees: 50 * rng.nextUnitFloat() - 25)
                width = 0.5 + 0.18 * rng.nextUnitFloat()
            }
            let reach = extent * half
            reach2 = reach * reach
            // Fully inside the image where it fits (a big rotated square may not quite).
            let room = Float(size) - 2 * reach
            cx = room > 0 ? reach + room * rng.nextUnitFloat() : Float(size) / 2
            cy = room > 0 ? reach + room * rng.nextUnitFloat() : Float(size) / 2
        }

        @inline(__always)
        func contains(_ px: Float, _ py: Float) -> Bool {
            let dx = px - cx, dy = py - cy
            if dx * dx + dy * dy > reach2 { return false }
            let u = (cos * dx + sin * dy) * inverseHalf
            let v = (cos * dy - sin * dx) * inverseHalf
            let au = Swift.abs(u), av = Swift.abs(v)
            switch kind {
            case .disc:
                return u * u + v * v <= 1
            case .ring:
                let r2 = u * u + v * v
                return r2 <= 1 && r2 >= (1 - width) * (1 - width)
            case .square:
                return Swift.max(au, av) <= 1
            case .hollowSquare:
                let m = Swift.max(au, av)
                return m <= 1 && m >= 1 - width
            case .triangle:
                // Equilateral, circumradius 1, a vertex at v = −1: inside all three edges (inradius ½).
                return v <= 0.5 && 0.8660254 * u - 0.5 * v <= 0.5 && -0.8660254 * u - 0.5 * v <= 0.5
            case .plus, .x:
                return (au <= 1 && av <= width) || (av <= 1 && au <= width)
            case .horizontalStripes, .verticalStripes:
                // Bars across v: bands 0, 2, 4, … of width `band` from v = −1.
                guard au <= barLength && av <= 1 else { return false }
                return Int((v + 1) / band) % 2 == 0
            case .diamond:
                return au / width + av <= 1
            }
        }
    }

    /// A distractor: a short stroke (a capsule around a segment) or a dot (a segment of length 0).
    struct Mark {
        var cx: Float, cy: Float
        var dx: Float, dy: Float     // unit direction of the segment
        var halfLength: Float
        var radius2: Float
        var colour: (Float, Float, Float)

        init(size: Int, unit: Float, colour: (Float, Float, Float), _ rng: inout SeededRNG) {
            cx = Float(size) * rng.nextUnitFloat()
            cy = Float(size) * rng.nextUnitFloat()
            (dx, dy) = ShapesDataset.randomDirection(&rng)
            let radius: Float
            if rng.nextUnitFloat() < 0.6 { // stroke, 3–8 px long, 1–1.8 px thick
                halfLength = unit * (1.5 + 2.5 * rng.nextUnitFloat())
                radius = unit * (0.5 + 0.4 * rng.nextUnitFloat())
            } else {                       // dot, 2–4.6 px across
                halfLength = 0
                radius = unit * (1 + 1.3 * rng.nextUnitFloat())
            }
            radius2 = radius * radius
            self.colour = colour
        }

        @inline(__always)
        func contains(_ px: Float, _ py: Float) -> Bool {
            let ex = px - cx, ey = py - cy
            let t = Swift.min(halfLength, Swift.max(-halfLength, ex * dx + ey * dy))
            let fx = ex - t * dx, fy = ey - t * dy
            return fx * fx + fy * fy <= radius2
        }
    }
}
