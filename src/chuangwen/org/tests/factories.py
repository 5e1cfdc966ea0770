import factory

from chuangwen.accounts.models import User
from chuangwen.org.models import Grade, Membership, SchoolClass, Unit


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    name = factory.Sequence(lambda n: f"测试用户{n}")
    phone = factory.Sequence(lambda n: f"138{n:08d}")
    password = factory.PostGenerationMethodCall("set_password", "Chuangwen#2026")

    @classmethod
    def _after_postgeneration(cls, instance, create, results=None):
        if create:
            instance.save()


class BureauFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Unit

    kind = Unit.Kind.BUREAU
    name = factory.Sequence(lambda n: f"测试市教育体育局{n}")
    code = factory.Sequence(lambda n: f"JTJ{n:03d}")


class DepartmentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Unit

    kind = Unit.Kind.DEPARTMENT
    name = factory.Sequence(lambda n: f"科室{n}")
    code = factory.Sequence(lambda n: f"DEP{n:03d}")
    parent = factory.SubFactory(BureauFactory)


class DistrictFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Unit

    kind = Unit.Kind.DISTRICT
    name = factory.Sequence(lambda n: f"测试区{n}")
    code = factory.Sequence(lambda n: f"DIS{n:03d}")
    parent = factory.SubFactory(BureauFactory)


class SchoolFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Unit

    kind = Unit.Kind.SCHOOL
    name = factory.Sequence(lambda n: f"测试第{n}小学")
    code = factory.Sequence(lambda n: f"{3410000000 + n}")
    parent = factory.SubFactory(DistrictFactory)
    school_type = Unit.SchoolType.PRIMARY
    ownership = Unit.Ownership.PUBLIC
    address = "测试路1号"
    enrolment = 1200
    staff_count = 80


class SchoolClassFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = SchoolClass

    school = factory.SubFactory(SchoolFactory)
    grade = Grade.G1
    name = factory.Sequence(lambda n: f"{n}班")
    head_teacher_name = "王老师"
    student_count = 45


class MembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Membership

    user = factory.SubFactory(UserFactory)
    unit = factory.SubFactory(SchoolFactory)
    role = "liaison"
