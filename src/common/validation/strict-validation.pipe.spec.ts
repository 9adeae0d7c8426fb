import { IsOptional, IsString } from 'class-validator';
import { NoQueryDto } from './no-query.dto';
import { StrictValidationPipe } from './strict-validation.pipe';

class SearchQueryDto {
  @IsOptional()
  @IsString()
  q?: string;
}

describe(StrictValidationPipe.name, () => {
  const pipe = new StrictValidationPipe();
  const asQuery = (metatype: new () => object) => ({ type: 'query' as const, metatype });

  it('gives a fieldless DTO instance for an empty query', async () => {
    await expect(pipe.transform({}, asQuery(NoQueryDto))).resolves.toBeInstanceOf(NoQueryDto);
  });

  it('still refuses, by name, a parameter sent to a route that declares none', async () => {
    await expect(pipe.transform({ x: '1' }, asQuery(NoQueryDto))).rejects.toMatchObject({
      code: 'validation_failed',
      errors: [{ field: 'x', message: 'property x should not exist' }],
    });
  });

  it('validates an empty query against a DTO that declares fields', async () => {
    await expect(pipe.transform({}, asQuery(SearchQueryDto))).resolves.toBeInstanceOf(SearchQueryDto);
    await expect(pipe.transform({ q: ['a', 'b'] }, asQuery(SearchQueryDto))).rejects.toMatchObject({
      code: 'validation_failed',
    });
  });
});
