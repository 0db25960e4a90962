#include "stages/train/student.h"

namespace gda {

const Choice<Student>& student_choice() {
  static const Choice<Student> choice{{"copy", Student::copy},
                                      {"continue", Student::keep_training},
                                      {"fresh_each_epoch", Student::fresh_each_epoch}};
  return choice;
}

}  // namespace gda
