// Tests of this target live in the other files of this folder.
import Testing
