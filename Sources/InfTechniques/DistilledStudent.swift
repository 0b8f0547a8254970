// Distillation as a technique: the teacher's distilled student, measured in the teacher's place
// on the same inputs, so its speed-up and its agreement with the teacher sit in the same table
// as every other technique. The student is the bundled checkpoint `infbench distill` trained
// against the teacher's soft outputs: "<task>-teacher" → "<task>-distilled".
import InfModels

public struct DistilledStudent: Technique {
    public static let name = "distilled"
    public var name: String { Self.name }
    public init() {}

    public var executes: String { "the smaller student distilled from this teacher (`infbench distill`), fp32 sgemm" }

    /// The student's bundled name for a teacher's, or nil when the model is not a teacher.
    public static func studentName(forTeacher teacher: String) -> String? {
        guard teacher.hasSuffix("-teacher") else { return nil }
        return String(teacher.dropLast("-teacher".count)) + "-distilled"
    }

    public func apply(to loaded: LoadedModel) throws -> InferenceModel {
        guard let student = Self.studentName(forTeacher: loaded.model.name),
              ModelLoader.bundled().contains(where: { $0.name == student }) else {
            throw TechniqueError(message: "\(name): \(loaded.model.name) is not a teacher with a distilled student bundled beside it (<task>-teacher and <task>-distilled).")
        }
        do { return try ModelLoader.load(student).model } catch {
            throw TechniqueError(message: "\(name): \(student) does not load: \(error)")
        }
    }

    public func describe(_ applied: InferenceModel, original: LoadedModel) -> String? {
        let share = Double(applied.parameterCount) / Double(max(original.model.parameterCount, 1))
        return "\(applied.name), \(applied.parameterCount) parameters, \(Int((share * 100).rounded()))% of the teacher's"
    }
}
